-- sqlfluff:ignore:parsing
-- An expression of exact_sum_wide.sql: the sum of the whole parts of the values {{value}} (HUGEINT) and
-- the whole part of the sum of their fractions, 0 without any value.
(coalesce(sum(trunc({{value}})::HUGEINT), 0) + trunc(coalesce(sum({{value}} - trunc({{value}})), 0))::HUGEINT)
