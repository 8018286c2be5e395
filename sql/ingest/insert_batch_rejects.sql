-- The rejected rows of several loads written together: `_typed` holds the reason and the raw text
-- (the line as read, or else the row's text values as JSON); `_file` is the position of the row's
-- file in the lists of load ids, file names and days.
INSERT INTO rejects
SELECT $ids[_file], $ds, $files[_file], $days[_file], _row_number, _field, _reason, _raw
FROM _typed
WHERE _reason IS NOT NULL;
