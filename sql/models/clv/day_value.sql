-- sqlfluff:ignore:parsing
-- An expression of summary.sql: the exact sum of a purchase day's values (DECIMAL, 0 without any).
coalesce(sum(CAST(q.value AS DECIMAL(38, 18))), 0)
