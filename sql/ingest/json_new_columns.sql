-- `_rows` with one text column per new key of its JSON line (`new_columns: evolve`): {{values}} is
-- `__x[i] AS "key"` for the key at $paths[i] (an object or array comes back as its JSON text).
CREATE OR REPLACE TEMP TABLE _rows AS
SELECT * EXCLUDE (__x), {{values}}
FROM (
    SELECT *, CASE WHEN json_valid(_raw) THEN json_extract_string(_raw, $paths) END AS __x
    FROM _rows
) AS lines;
