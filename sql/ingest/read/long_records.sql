-- The rows of `_rows` that stand for a line longer than the limit (pipeline/ingest/limits.py
-- replaced the line by a marker the reader rejects): the reason says so, no raw text is kept
-- (an empty raw_row).
UPDATE _rows SET
    _error = 'row: longer than ' || $max_line || ' bytes',
    _error_field = 'row',
    _raw = ''
WHERE starts_with(_raw, $mark);
