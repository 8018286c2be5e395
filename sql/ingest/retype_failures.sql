-- A column whose declared type changed: how many stored values do not convert to the new type
-- ({{fails}} says which do) and the days (partitions) that hold them.
SELECT count(*) AS n, list(DISTINCT _partition_date ORDER BY _partition_date) AS days
FROM {{table}}
WHERE {{fails}};
