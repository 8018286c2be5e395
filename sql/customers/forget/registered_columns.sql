-- The registered customer-keyed columns (table, column, key kind) of tables and columns that exist,
-- named as the warehouse names them.
SELECT c.table_name, c.column_name, r.key_kind
FROM customer_tables r
JOIN information_schema.columns c
  ON lower(c.table_name) = lower(r.table_name) AND lower(c.column_name) = lower(r.column_name)
JOIN information_schema.tables t
  ON t.table_catalog = c.table_catalog AND t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_catalog = current_database() AND c.table_schema = 'main' AND t.table_type = 'BASE TABLE'
ORDER BY 1, 2, 3;
