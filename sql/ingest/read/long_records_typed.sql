-- As long_records.sql, for rows typed straight from the lines read: the rows of `_typed` that stand for
-- a line longer than the limit (rejected, they keep their raw text: the marker) get that reason, and
-- no raw text is kept (an empty raw_row).
UPDATE _typed SET
    _reason = 'row: longer than ' || $max_line || ' bytes',
    _field = 'row',
    _raw = ''
WHERE starts_with(_raw, $mark);
