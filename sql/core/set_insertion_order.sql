-- Keep ($ordered) or not the order rows are inserted in (DuckDB's preserve_insertion_order): a table
-- whose readers sort what they read, or only add up exact values, needs none, and an insert gathers
-- its parallel pieces faster without it.
SET preserve_insertion_order = $ordered;
