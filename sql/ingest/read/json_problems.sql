-- The reasons of the invalid JSON lines of `_rows`, with where the line goes wrong
-- (`_json_problems`: pos = the row's rowid, reason as Python's JSON parser names it).
UPDATE _rows SET _error = p.reason
FROM _json_problems AS p
WHERE _rows.rowid = p.pos;
