-- The customers as published: keyed by customer_id (the customuid), without the raw identifiers
-- ({{raw}}: the identifier columns the table has, each after a comma).
SELECT
    customuid AS customer_id,
    * EXCLUDE (customuid{{raw}})
FROM customers;
