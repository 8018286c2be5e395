-- The top-level keys of the JSON lines in `_rows` (those that are objects) that none of the
-- dataset's fields reads ($known), in order of first appearance.
SELECT k
FROM (
    SELECT _row_number, unnest(json_keys(_raw)) AS k
    FROM _rows
    WHERE json_type(CASE WHEN json_valid(_raw) THEN _raw END) = 'OBJECT'
) AS keyed
WHERE NOT list_contains($known, k)
GROUP BY k
ORDER BY min(_row_number), k;
