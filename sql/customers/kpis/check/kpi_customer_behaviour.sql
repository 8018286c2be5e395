-- kpi_customer_behaviour reconciles with `customers` and `events`: one row per customer not
-- excluded, and its orders and spending add up to the orders of those customers and their values.
-- Rows: (scope, measure, kpi_value, base_value); the check passes when every pair is equal. The sums:
-- {{order_values}} as in kpi_customer_behaviour.sql, {{money_total}} as in its summary (NULL on both
-- sides where the spending is too large to hold exactly).
WITH counted AS (
    SELECT customuid AS customer_id FROM customers
    WHERE customuid NOT IN (SELECT customer_id FROM customer_identities WHERE excluded)
), base AS (
    SELECT (SELECT count(*) FROM counted) AS customers, count(*) AS orders, {{order_values}} AS spending
    FROM _kpi_order_rows WHERE customer_id IN (SELECT customer_id FROM counted)
), kpi AS (
    SELECT count(*) AS customers, coalesce(sum(orders), 0) AS orders, {{money_total}} AS spending
    FROM kpi_customer_behaviour
)
SELECT 'customers' AS scope, m.measure, CAST(m.kpi_value AS DECIMAL(38,18)) AS kpi_value,
       CAST(m.base_value AS DECIMAL(38,18)) AS base_value
FROM kpi k CROSS JOIN base b,
     LATERAL (VALUES ('customers', CAST(k.customers AS DECIMAL(38,18)), CAST(b.customers AS DECIMAL(38,18))),
                     ('orders', CAST(k.orders AS DECIMAL(38,18)), CAST(b.orders AS DECIMAL(38,18))),
                     ('total_spending', CAST(k.spending AS DECIMAL(38,18)), CAST(b.spending AS DECIMAL(38,18))))
         m(measure, kpi_value, base_value)
ORDER BY 1, 2;
