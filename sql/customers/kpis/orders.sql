-- The orders (_kpi_orders in base.sql) read once per step into a temp table: the KPIs that count
-- orders (their updates, checks and the currency check) read it instead of parsing every event's
-- properties again each time.
CREATE OR REPLACE TEMP TABLE _kpi_order_rows AS
SELECT * FROM _kpi_orders($order_type, $session_type);
