-- The decisions of the dates $a..$b per experiment and variant, for the run's metadata.
SELECT experiment, variant, count(*)
FROM results
WHERE date BETWEEN $a AND $b
GROUP BY ALL
ORDER BY 1, 2;
