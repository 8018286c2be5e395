-- The type of each column of a table (a migration compares them with the types the code declares).
SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = 'main' AND table_name = $table;
