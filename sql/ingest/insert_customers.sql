-- The good rows of a customer file into `customers`; a customer seen before keeps its first day, unless
-- this file is older (a late file for an earlier day, applied before the later ones again).
INSERT INTO customers ({{columns}}, _first_seen_at, _updated_at, _load_id)
SELECT {{typed_columns}}, least(s._first_seen_at, $d), $d, $id
FROM _typed AS t LEFT JOIN _seen AS s USING (customuid)
WHERE t._reason IS NULL
ORDER BY t._row_number;
