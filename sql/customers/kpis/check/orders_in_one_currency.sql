-- The currencies the orders' values are in (revenue adds the values as they are: more than one is a
-- warning), over every order, not only those an update read: the currencies of the order-type
-- events (orders without the rule's parse) and of the orders read, then those of the other
-- events of the session type whose currency is not among them, the order rule parsing only those.
WITH known AS (
    SELECT currency FROM _kpi_events WHERE type = $order_type AND currency IS NOT NULL
    UNION
    SELECT currency FROM _kpi_order_rows WHERE currency IS NOT NULL
), other AS MATERIALIZED (
    SELECT type, currency, properties FROM _kpi_events
    WHERE type = $session_type AND currency IS NOT NULL AND currency NOT IN (SELECT currency FROM known)
)
SELECT coalesce(list(DISTINCT currency ORDER BY currency), []) AS currencies
FROM (
    SELECT currency FROM known
    UNION ALL
    SELECT currency FROM other WHERE _kpi_is_order(type, properties, $order_type, $session_type)
) AS orders;
