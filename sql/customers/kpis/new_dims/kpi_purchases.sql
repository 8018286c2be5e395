-- The order contexts from $since on that kpi_purchases has no row of: a new one needs zero rows in
-- every past period, so the table is rebuilt whole.
SELECT count(*) FROM (
    SELECT DISTINCT context FROM _kpi_order_rows WHERE day >= $since
    EXCEPT
    SELECT context FROM kpi_purchases
) AS new_contexts;
