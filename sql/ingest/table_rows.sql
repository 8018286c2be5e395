-- The number of rows of a loaded table (every partition).
SELECT count(*) AS n FROM {{table}};
