-- The customers whose kpi_customer_behaviour row an update recomputes (none for a full rebuild,
-- $whole): those with an order on a day from $since on, now or at the last build (an order gone or
-- now another's: the days before $since are as they were built, so their stored orders differ from
-- their orders now; not found by their stored last purchase, whose time may be a day before the
-- partition day of its file), those created from $since on, and those the table holds that no
-- longer count (excluded or dropped: their row is deleted, not written again).
CREATE OR REPLACE TEMP TABLE _kpi_changed_customers AS
SELECT customer_id FROM _kpi_order_rows
WHERE NOT $whole AND day >= $since AND customer_id IS NOT NULL
UNION
SELECT customer_id FROM _kpi_customers
WHERE NOT $whole AND created_on >= $since
UNION
SELECT k.customer_id FROM kpi_customer_behaviour AS k
LEFT JOIN (
    SELECT customer_id, count(*) AS orders FROM _kpi_order_rows
    WHERE NOT $whole AND customer_id IS NOT NULL
    GROUP BY customer_id
) AS o ON o.customer_id = k.customer_id
WHERE NOT $whole AND (k.orders <> coalesce(o.orders, 0)
                      OR k.customer_id NOT IN (SELECT customer_id FROM _kpi_customers));
