-- A table's column names.
SELECT column_name FROM information_schema.columns
WHERE table_schema = 'main' AND table_name = $table;
