-- sqlfluff:ignore:parsing
-- An expression (not a statement): the exact sum (DECIMAL(38, 18)) of the values {{value}}, 0 without
-- any (the experiments' write_conversions.sql: a presentation's counted matches; the KPIs' money).
coalesce(sum({{value}}), 0)
