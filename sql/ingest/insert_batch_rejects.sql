-- The rejected rows of several loads written together: `_typed` holds the reason, `_rows` the raw
-- text (the line as read, or else the row's text values as JSON); `_file` is the position of the
-- row's file in the lists of load ids, file names and days.
INSERT INTO rejects
SELECT $ids[t._file], $ds, $files[t._file], $days[t._file], t._row_number, t._field, t._reason,
       coalesce(r._raw, (SELECT to_json(v)::VARCHAR
                         FROM (SELECT r.* EXCLUDE (_file, _row_number, _raw, _error, _error_field)) v))
FROM _typed t JOIN _rows r USING (_file, _row_number)
WHERE t._reason IS NOT NULL;
