-- The order contexts that an update from $since would get wrong, so the table is rebuilt whole:
-- those of the orders from $since on that kpi_purchases has no row of (a new one needs zero rows in
-- every past period) and those it has that no order holds any more (their only orders were from
-- $since on: the last day re-run without them). The days before $since are as they were built, so
-- the contexts they hold are those with orders in a day row before it.
SELECT count(*) FROM (
    (
        SELECT DISTINCT context FROM _kpi_order_rows WHERE day >= $since
        EXCEPT
        SELECT context FROM kpi_purchases
    )
    UNION ALL
    (
        SELECT DISTINCT context FROM kpi_purchases
        EXCEPT
        (
            SELECT context FROM kpi_purchases
            WHERE grain = 'day' AND period_start < $since AND orders > 0
            UNION
            SELECT context FROM _kpi_order_rows WHERE day >= $since
        )
    )
) AS changed_contexts;
