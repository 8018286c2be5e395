-- The reasons of the invalid JSON lines of {{table}} (`_rows`, or `_typed`), with where the line goes
-- wrong (`_json_problems`: pos = the row's rowid, reason as Python's JSON parser names it).
UPDATE {{table}} SET {{reason}} = p.reason
FROM _json_problems AS p
WHERE {{table}}.rowid = p.pos;
