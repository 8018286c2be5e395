-- The rejected rows of a range file: each with the load of its day ($days and $ids in the same
-- order; a row without a day goes with the last load, of no day, when $days ends with NULL).
-- `_typed` holds the reason, `_rows` the raw text (the line, or else the row's text values as JSON).
INSERT INTO rejects
SELECT
    $ids[coalesce(list_position($days, t.__day), len($days))],
    $ds,
    $file,
    t.__day,
    t._row_number,
    t._field,
    t._reason,
    coalesce(r._raw, (
        SELECT to_json(v)::VARCHAR
        FROM (SELECT r.* EXCLUDE (_row_number, _raw, _error, _error_field)) AS v
    ))
FROM (SELECT *, CAST({{time_field}} AS DATE) AS __day FROM _typed WHERE _reason IS NOT NULL) AS t
INNER JOIN _rows AS r USING (_row_number)
WHERE t.__day IS NULL OR t.__day BETWEEN $first AND $last;
