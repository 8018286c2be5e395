-- The good rows of `_typed` (several files) into their days' partitions; `_file` is the position of
-- a row's file in the lists of load ids and days. Inserted in any order (pipeline/ingest/write.py:
-- preserve_insertion_order off): nothing reads a table's rows in its physical order, and
-- `_row_number` keeps each row's place in its file.
INSERT INTO {{table}} ({{columns}}, _load_id, _partition_date, _row_number)
SELECT {{columns}}, $ids[_file], $days[_file], _row_number
FROM _typed
WHERE _reason IS NULL;
