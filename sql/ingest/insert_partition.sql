-- The good rows of `_typed` (one file) into the day's partition, in file order.
INSERT INTO {{table}} ({{columns}}, _load_id, _partition_date, _row_number)
SELECT {{columns}}, $id, $d, _row_number
FROM _typed
WHERE _reason IS NULL
ORDER BY _row_number;
