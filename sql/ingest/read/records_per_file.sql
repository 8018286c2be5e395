-- The number of records the CSV reader kept of each file of `_read` (0-based `file_index`).
SELECT
    file_index,
    count(*) AS records
FROM _read
GROUP BY file_index;
