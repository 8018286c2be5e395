-- sqlfluff:ignore:parsing
-- day_value.sql where the values could add up past what DECIMAL(38, 18) holds (1e20;
-- sql/core/value_bound.sql): summed as doubles (the summary is in doubles either way).
coalesce(sum(CAST(q.value AS DOUBLE)), 0)
