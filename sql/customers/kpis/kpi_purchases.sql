-- kpi_purchases: per period of each grain and context, the orders (see _kpi_orders in base.sql,
-- read into _kpi_order_rows by orders.sql:
-- completedOrder events plus web sessions that purchased, WEB reported as ECOMMERCE), their
-- revenue, the average order value and the distinct buyers. Every period has a row for every
-- context that has any order, zeros included. Each grain counts only the days of the periods it
-- recomputes (an update's day grain reads its days, not the whole month's).
-- An update recomputes the periods from the one holding $since on (all of them: a full rebuild).
-- The contexts are those counted and those the table already has. {{order_values}}: the orders' values
-- summed exactly (sql/core/exact_sum.sql; exact_sum_wide.sql where they could add up to 1e20: a
-- revenue of 1e20 or more is NULL, too large to hold exactly, and so is its average order value).
INSERT INTO kpi_purchases (grain, period_start, context, orders, revenue, average_order_value, buyers)
WITH o AS (
    SELECT day, CAST(date_trunc('week', day) AS DATE) AS week, CAST(date_trunc('month', day) AS DATE) AS month,
           context, customer_id, value
    FROM _kpi_order_rows
    WHERE day >= least(CAST(date_trunc('week', $since) AS DATE), CAST(date_trunc('month', $since) AS DATE))
), counted AS (  -- each grain over the days of its periods from the one holding $since on
    SELECT 'day' AS grain, day AS period_start, context,
           count(*) AS orders, {{order_values}} AS revenue, count(DISTINCT customer_id) AS buyers
    FROM o WHERE day >= $since GROUP BY day, context
    UNION ALL
    SELECT 'week', week, context, count(*), {{order_values}}, count(DISTINCT customer_id)
    FROM o WHERE week >= CAST(date_trunc('week', $since) AS DATE) GROUP BY week, context
    UNION ALL
    SELECT 'month', month, context, count(*), {{order_values}}, count(DISTINCT customer_id)
    FROM o WHERE month >= CAST(date_trunc('month', $since) AS DATE) GROUP BY month, context
)
SELECT p.grain, p.period_start, k.context,
       coalesce(n.orders, 0) AS orders,
       CAST(CASE WHEN n.orders IS NULL THEN 0 ELSE n.revenue END AS DECIMAL(38,18)) AS revenue,
       n.revenue / n.orders AS average_order_value,
       coalesce(n.buyers, 0) AS buyers
FROM _kpi_periods p
CROSS JOIN (
    SELECT DISTINCT context FROM counted
    UNION
    SELECT context FROM kpi_purchases
) k
LEFT JOIN counted n ON n.grain = p.grain AND n.period_start = p.period_start AND n.context = k.context
WHERE p.period_start >= CAST(date_trunc(p.grain, $since) AS DATE);
