-- The good rows of a batch of customer files (`_typed`, `_file` = position in $days and $ids) into
-- `customers`, as applying the files one after the other gives: each customer's row of the last file
-- that has it, first seen on the day of the first file that has it or when seen before the batch
-- (`_seen`), whichever is earlier (a late file for an earlier day), updated on the day of its file.
INSERT INTO customers ({{columns}}, _first_seen_at, _updated_at, _load_id)
SELECT
    {{typed_columns}},
    least(s._first_seen_at, $days[t.__first]),
    $days[t._file],
    $ids[t._file]
FROM (
    SELECT
        *,
        min(_file) OVER (PARTITION BY customuid) AS __first,
        max(_file) OVER (PARTITION BY customuid) AS __last
    FROM _typed
    WHERE _reason IS NULL
) AS t
LEFT JOIN _seen AS s USING (customuid)
WHERE t._file = t.__last
ORDER BY t._file, t._row_number;
