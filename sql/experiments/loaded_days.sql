-- The days for which every dataset the conversions read has a successful load (a partition that
-- loaded, or whose file was empty). A window is complete when each of its days is one of them.
SELECT partition_date
FROM loads
WHERE list_contains($datasets, dataset) AND status IN ('LOADED', 'PROCESSED') AND partition_date IS NOT NULL
GROUP BY partition_date
HAVING count(DISTINCT dataset) = len($datasets)
ORDER BY partition_date;
