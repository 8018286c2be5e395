-- sqlfluff:ignore:parsing
-- An expression (not a statement): the exact sum of a KPI's money column {{value}} where its values
-- could add up to 1e20 ({{summed}}: sql/core/exact_sum_wide.sql over it), NULL (too large to hold
-- exactly) where any of them is NULL (too large itself).
CASE WHEN bool_or({{value}} IS NULL) THEN NULL ELSE {{summed}} END
