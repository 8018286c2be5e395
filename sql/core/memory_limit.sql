-- The connection's memory_limit, as DuckDB shows it (e.g. '1.8 GiB').
SELECT current_setting('memory_limit');
