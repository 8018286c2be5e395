-- The highest watermark value loaded into the partitions before a day (an mssql source's query
-- asks for the rows after it).
SELECT max({{column}}) AS watermark
FROM {{table}}
WHERE _partition_date < $d
