-- kpi_customer_behaviour reconciles with `customers` and `events`: one row per customer not
-- excluded, and the orders and spending of the customers an update recomputed (those with an order
-- from $since on or created from $since on: every customer after a whole rebuild) add up to
-- their orders and the orders' values.
-- Rows: (scope, measure, kpi_value, base_value); the check passes when every pair is equal.
WITH counted AS (
    SELECT customuid AS customer_id FROM customers
    WHERE customuid NOT IN (SELECT customer_id FROM customer_identities WHERE excluded)
), recomputed AS (
    SELECT customer_id FROM _kpi_order_rows WHERE day >= $since
    UNION
    SELECT customer_id FROM _kpi_customers WHERE created_on >= $since
), base AS (
    SELECT (SELECT count(*) FROM counted) AS customers, count(*) AS orders, coalesce(sum(value), 0) AS spending
    FROM _kpi_order_rows
    WHERE customer_id IN (SELECT customer_id FROM counted) AND customer_id IN (SELECT customer_id FROM recomputed)
), kpi AS (
    SELECT (SELECT count(*) FROM kpi_customer_behaviour) AS customers,
           coalesce(sum(orders), 0) AS orders, coalesce(sum(total_spending), 0) AS spending
    FROM kpi_customer_behaviour WHERE customer_id IN (SELECT customer_id FROM recomputed)
)
SELECT 'customers' AS scope, m.measure, CAST(m.kpi_value AS DECIMAL(38,18)) AS kpi_value,
       CAST(m.base_value AS DECIMAL(38,18)) AS base_value
FROM kpi k CROSS JOIN base b,
     LATERAL (VALUES ('customers', CAST(k.customers AS DECIMAL(38,18)), CAST(b.customers AS DECIMAL(38,18))),
                     ('orders', CAST(k.orders AS DECIMAL(38,18)), CAST(b.orders AS DECIMAL(38,18))),
                     ('total_spending', CAST(k.spending AS DECIMAL(38,18)), CAST(b.spending AS DECIMAL(38,18))))
         m(measure, kpi_value, base_value)
ORDER BY 1, 2;
