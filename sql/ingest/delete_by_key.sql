-- Upsert by key: the rows of {{table}} whose key ({{match}} compares it) is the key of a good row of
-- `_typed` (of the days being loaded) go, in whatever partition they are.
DELETE FROM {{table}} AS t
USING (
    SELECT DISTINCT {{key}}
    FROM _typed
    WHERE _reason IS NULL AND CAST({{time_field}} AS DATE) BETWEEN $first AND $last
) AS k
WHERE {{match}};
