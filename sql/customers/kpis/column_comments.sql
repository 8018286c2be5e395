-- The column descriptions of a KPI table ($table), from the comments of its create/ statement.
SELECT column_name, comment FROM duckdb_columns() WHERE table_name = $table AND comment IS NOT NULL;
