-- The orders (_kpi_orders in base.sql) read once per step into a temp table: the KPIs that count
-- orders (their updates, checks and the currency check) read it instead of parsing every event's
-- properties again each time. A whole rebuild ($whole) reads every order; an update only those of
-- the periods it rewrites, from the first day of the week or month holding $since on (the earlier
-- orders of the customers kpi_customer_behaviour recomputes are added by orders_of_customers.sql).
CREATE OR REPLACE TEMP TABLE _kpi_order_rows AS
SELECT * FROM _kpi_orders($order_type, $session_type)
WHERE $whole OR day >= least(CAST(date_trunc('week', $since) AS DATE), CAST(date_trunc('month', $since) AS DATE));
