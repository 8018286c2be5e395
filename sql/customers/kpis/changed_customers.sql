-- The customers whose kpi_customer_behaviour row an update recomputes: those with an order on a day
-- from $since on and those created from $since on (none for a full rebuild, $whole).
CREATE OR REPLACE TEMP TABLE _kpi_changed_customers AS
SELECT customer_id FROM _kpi_order_rows
WHERE NOT $whole AND day >= $since AND customer_id IS NOT NULL
UNION
SELECT customer_id FROM _kpi_customers
WHERE NOT $whole AND created_on >= $since;
