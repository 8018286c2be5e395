-- The customers whose kpi_customer_behaviour row an update recomputes (none for a full rebuild,
-- $whole): those with an order on a day from $since on, now or at the last build (their stored
-- last purchase: an order gone or now another's), those created from $since on, and those the
-- table holds that no longer count (excluded or dropped: their row is deleted, not written again).
CREATE OR REPLACE TEMP TABLE _kpi_changed_customers AS
SELECT customer_id FROM _kpi_order_rows
WHERE NOT $whole AND day >= $since AND customer_id IS NOT NULL
UNION
SELECT customer_id FROM _kpi_customers
WHERE NOT $whole AND created_on >= $since
UNION
SELECT customer_id FROM kpi_customer_behaviour
WHERE NOT $whole AND (CAST(last_purchase_at AS DATE) >= $since
                      OR customer_id NOT IN (SELECT customer_id FROM _kpi_customers));
