-- The rejected rows of the load being written: `_typed` holds the reason, `_rows` the raw text
-- (the line as read, or else the row's text values as JSON).
INSERT INTO rejects
SELECT $load_id, $ds, $file, $d, t._row_number, t._field, t._reason,
       coalesce(r._raw, (SELECT to_json(v)::VARCHAR
                         FROM (SELECT r.* EXCLUDE (_row_number, _raw, _error, _error_field)) v))
FROM _typed t JOIN _rows r USING (_row_number)
WHERE t._reason IS NOT NULL;
