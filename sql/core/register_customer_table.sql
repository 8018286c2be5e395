-- Register one customer-keyed column (idempotent).
INSERT INTO customer_tables (table_name, column_name, key_kind) VALUES ($table, $column, $kind)
ON CONFLICT DO NOTHING;
