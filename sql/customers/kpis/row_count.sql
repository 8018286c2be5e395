-- The rows of a KPI table (`table`).
SELECT count(*) AS row_count FROM {{table}};
