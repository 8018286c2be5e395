-- An update's orders (orders.sql) completed with the earlier orders of the customers whose
-- kpi_customer_behaviour row it recomputes (_kpi_changed_customers): their whole history. Only
-- their events are read and parsed (materialised first, so the order rule runs on them alone).
INSERT INTO _kpi_order_rows
WITH theirs AS MATERIALIZED (
    SELECT event_id, customer_id, day, occurred_at, value, currency, context, type, properties
    FROM _kpi_events
    WHERE day < least(CAST(date_trunc('week', $since) AS DATE), CAST(date_trunc('month', $since) AS DATE))
      AND type IN ($order_type, $session_type)
      AND customer_id IN (SELECT customer_id FROM _kpi_changed_customers)
)
SELECT event_id, customer_id, day, occurred_at, value, currency, _kpi_order_context(context) AS context
FROM theirs
WHERE _kpi_is_order(type, properties, $order_type, $session_type);
