-- The columns of a table that hold no NULL (a migration compares them with the columns the code lets
-- be NULL).
SELECT column_name FROM information_schema.columns
WHERE table_schema = 'main' AND table_name = $table AND is_nullable = 'NO';
