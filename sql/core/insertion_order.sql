-- Whether the connection keeps the order rows are inserted in (DuckDB's preserve_insertion_order).
SELECT current_setting('preserve_insertion_order');
