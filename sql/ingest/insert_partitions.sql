-- The good rows of `_typed` (several files) into their days' partitions; `_file` is the position of
-- a row's file in the lists of load ids and days. `_typed` holds the rows in file order already (read
-- in file order, kept in it): no sort (nothing reads a table's rows in its physical order).
INSERT INTO {{table}} ({{columns}}, _load_id, _partition_date, _row_number)
SELECT {{columns}}, $ids[_file], $days[_file], _row_number
FROM _typed
WHERE _reason IS NULL;
