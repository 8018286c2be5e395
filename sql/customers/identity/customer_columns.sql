-- The columns of the customer data set (the identifier kinds and exclusion properties it has).
SELECT column_name FROM information_schema.columns WHERE table_name = 'customers';
