-- Whether the connection's warehouse is open read-only (a report reads the kept frames, never writes).
SELECT readonly FROM duckdb_databases() WHERE database_name = current_database();
