-- The invalid JSON lines of {{table}} (`_rows`, or `_typed` with the raw text of its rejected rows):
-- their rowid and raw text, the ones Python's JSON parser names the problem of.
SELECT
    rowid AS pos,
    _raw
FROM {{table}}
WHERE {{reason}} = $invalid;
