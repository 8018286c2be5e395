-- A table's columns and their types, in order, as one text (what a recorded fingerprint was made of).
SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)
FROM information_schema.columns
WHERE table_schema = 'main' AND table_name = $table;
