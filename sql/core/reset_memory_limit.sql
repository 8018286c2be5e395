-- The connection's memory_limit back to DuckDB's default.
RESET memory_limit;
