-- The columns of the customer data, in table order: the fields a customer rule may test.
SELECT column_name
FROM information_schema.columns
WHERE table_name = $table
ORDER BY ordinal_position;
