-- The headline numbers of kpi_customer_behaviour for the UI. {{money_total}}: the total spendings
-- summed exactly (sql/core/exact_sum.sql; total_wide.sql where they could add up to 1e20: NULL, too
-- large to hold exactly, from 1e20 on or when a customer's is).
SELECT count(*) AS customers,
       count(*) FILTER (WHERE orders > 0) AS buyers,
       count(*) FILTER (WHERE orders > 1) AS repeat_buyers,
       coalesce(sum(orders), 0) AS orders,
       {{money_total}} AS total_spending,
       {{money_total}} / nullif(count(*) FILTER (WHERE orders > 0), 0) AS average_spending_per_buyer,
       CAST(sum(orders) AS DOUBLE) / nullif(count(*) FILTER (WHERE orders > 0), 0) AS average_orders_per_buyer
FROM kpi_customer_behaviour;
