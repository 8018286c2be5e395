-- The number of rows of each of the partitions $days of {{table}} that holds any.
SELECT _partition_date, count(*) AS n
FROM {{table}}
WHERE list_contains($days, _partition_date)
GROUP BY _partition_date;
