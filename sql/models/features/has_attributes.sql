-- How many attr_* (multi-value attribute) columns the customers table has.
SELECT count(*) FROM information_schema.columns
WHERE table_name = 'customers' AND column_name LIKE 'attr\_%' ESCAPE '\'
