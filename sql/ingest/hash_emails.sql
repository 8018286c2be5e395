-- `_rows` with the plain `email` column replaced by `emailsha256` ({{hashed}}: the addresses of a
-- cell, lower-cased and trimmed); the raw text goes too, so no plain address reaches the warehouse.
CREATE OR REPLACE TEMP TABLE _rows AS
SELECT * EXCLUDE (email, _raw), NULL::VARCHAR AS _raw,
       NULLIF(array_to_string(list_transform({{hashed}}, lambda x: sha256(x)), ','), '') AS emailsha256
FROM _rows;
