-- sqlfluff:ignore:parsing
-- An expression of exact_sum_wide.sql: the rest of the sum of the fractions of the values {{value}}
-- (DECIMAL, under 1, of the sign of their sum) once its whole part is taken out, 0 without any value.
(coalesce(sum({{value}} - trunc({{value}})), 0) - trunc(coalesce(sum({{value}} - trunc({{value}})), 0)))
