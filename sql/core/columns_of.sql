-- The columns of a table, in order: name and type (column schemas and previews in the metadata).
SELECT column_name, data_type FROM information_schema.columns
WHERE table_name = $table
ORDER BY ordinal_position;
