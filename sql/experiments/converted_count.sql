-- The presentations of the dates $a..$b that converted, for the run's metadata.
SELECT count(*) FILTER (WHERE converted)
FROM conversions
WHERE date BETWEEN $a AND $b;
