-- Each data set: its loads, files and rows, and the last partition loaded.
SELECT
    dataset,
    count(*) AS loads,
    count(DISTINCT file) AS files,
    sum(rows_read) AS rows_read,
    sum(rows_loaded) AS rows_loaded,
    sum(rows_rejected) AS rows_rejected,
    count(*) FILTER (WHERE status = 'FAILED') AS failed,
    max(partition_date) AS last_partition,
    max(finished_at) AS last_load_at
FROM loads GROUP BY dataset ORDER BY dataset
