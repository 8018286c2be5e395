-- The connection's memory_limit set to $size (a DuckDB size, e.g. '512 bytes' or '2GB').
SET memory_limit = $size;
