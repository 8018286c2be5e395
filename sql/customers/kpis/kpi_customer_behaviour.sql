-- kpi_customer_behaviour: each customer that counts (buyer or not) with their orders (see
-- _kpi_orders in base.sql), total spending, average order value and first and last purchase,
-- over the whole history the warehouse keeps. An update recomputes the customers of
-- _kpi_changed_customers (all of them: a full rebuild, $whole). {{order_values}}: the orders' values
-- summed exactly (sql/core/exact_sum.sql; exact_sum_wide.sql where they could add up to 1e20: a
-- total spending of 1e20 or more is NULL, too large to hold exactly, and so is its average).
INSERT INTO kpi_customer_behaviour
    (customer_id, orders, total_spending, average_order_value, first_purchase_at, last_purchase_at)
WITH bought AS (
    SELECT customer_id, count(*) AS orders, {{order_values}} AS total_spending,
           min(occurred_at) AS first_purchase_at, max(occurred_at) AS last_purchase_at
    FROM _kpi_order_rows
    WHERE customer_id IS NOT NULL AND ($whole OR customer_id IN (SELECT customer_id FROM _kpi_changed_customers))
    GROUP BY customer_id
)
SELECT c.customer_id, coalesce(b.orders, 0),
       CAST(CASE WHEN b.orders IS NULL THEN 0 ELSE b.total_spending END AS DECIMAL(38,18)),
       b.total_spending / b.orders,
       b.first_purchase_at, b.last_purchase_at
FROM _kpi_customers c LEFT JOIN bought b USING (customer_id)
WHERE $whole OR c.customer_id IN (SELECT customer_id FROM _kpi_changed_customers);
