-- Data quality: loads and rows per data set.
SELECT
    dataset,
    count(*) AS loads,
    count(*) FILTER (WHERE status = 'FAILED') AS failed,
    sum(rows_read) AS rows_read,
    sum(rows_loaded) AS rows_loaded,
    sum(rows_rejected) AS rows_rejected,
    max(partition_date) AS last_day
FROM loads GROUP BY dataset ORDER BY dataset;
