-- The currencies the orders' values are in (revenue adds the values as they are: more than one is a
-- warning), over every order (not only those an update read): the events without a currency are
-- left out before the order rule parses their properties.
SELECT coalesce(list(DISTINCT currency ORDER BY currency), []) AS currencies
FROM _kpi_orders($order_type, $session_type) WHERE currency IS NOT NULL;
