-- sqlfluff:ignore:parsing
-- An expression of report_counts.sql (not a statement): the exact sum (DECIMAL, 18 decimals) of the
-- values {{value}} as a double, over the window {{over}} (or none: the group), the same bits in
-- whatever order the rows are added.
(sum({{value}}){{over}})::DOUBLE
