-- sqlfluff:ignore:parsing
-- An expression of write_conversions.sql (not a statement): the exact sum (DECIMAL(38, 18)) of a
-- presentation's counted matches' values {{value}}, 0 without any.
coalesce(sum({{value}}), 0)
