-- An export's rows ({{query}}) as a CSV file at $path, header first, written by DuckDB: each value as
-- DuckDB's text (timestamps, floats in full, booleans as JSON lines holds them) and each list column
-- as its JSON array ({{lists}}: ` REPLACE (to_json(c)::VARCHAR AS c, ...)`, or nothing), quoted where
-- it holds the delimiter, a quote or a line break (a carriage return too). Returns the rows written.
COPY (SELECT *{{lists}} FROM ({{query}}) AS t) TO $path (FORMAT csv, HEADER);  -- noqa: PRS
