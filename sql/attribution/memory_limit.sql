-- The connection's memory_limit, as DuckDB shows it (e.g. '476.8 MiB'): what a range may hold.
SELECT current_setting('memory_limit');
