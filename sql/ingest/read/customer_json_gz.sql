-- A gzip file of the JSON form of customer data as one text value in `_doc`, decompressed by
-- DuckDB (within its memory limit); $max: the largest document read.
CREATE OR REPLACE TEMP TABLE _doc AS
SELECT json::VARCHAR AS content
FROM read_json_objects($p, format = 'unstructured', maximum_object_size = $max);
