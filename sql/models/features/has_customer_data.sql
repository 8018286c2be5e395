-- Whether the warehouse holds the customer data set (a table of its own, not this connection's stand-in).
SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = 'customers' AND NOT temporary;
