-- The headline numbers of kpi_customer_behaviour for the UI.
SELECT count(*) AS customers,
       count(*) FILTER (WHERE orders > 0) AS buyers,
       count(*) FILTER (WHERE orders > 1) AS repeat_buyers,
       coalesce(sum(orders), 0) AS orders,
       coalesce(sum(total_spending), 0) AS total_spending,
       sum(total_spending) / nullif(count(*) FILTER (WHERE orders > 0), 0) AS average_spending_per_buyer,
       CAST(sum(orders) AS DOUBLE) / nullif(count(*) FILTER (WHERE orders > 0), 0) AS average_orders_per_buyer
FROM kpi_customer_behaviour;
