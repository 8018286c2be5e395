-- The safety net: every column of the warehouse's tables named customer_id or customuid, whether
-- or not its writer registered it.
SELECT c.table_name, c.column_name
FROM information_schema.columns c
JOIN information_schema.tables t
  ON t.table_catalog = c.table_catalog AND t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_catalog = current_database() AND c.table_schema = 'main' AND t.table_type = 'BASE TABLE'
  AND lower(c.column_name) IN ('customer_id', 'customuid')
ORDER BY 1, 2;
