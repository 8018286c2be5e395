-- The headline numbers of kpi_purchases for the UI: all days, and the last 30 days.
WITH d AS (SELECT * FROM kpi_purchases WHERE grain = 'day'),
     recent AS (SELECT * FROM d WHERE period_start > (SELECT max(period_start) FROM d) - $days)
SELECT coalesce(sum(revenue), 0) AS revenue,
       coalesce(sum(orders), 0) AS orders,
       sum(revenue) / nullif(sum(orders), 0) AS average_order_value,
       (SELECT coalesce(sum(revenue), 0) FROM recent) AS revenue_last_30_days,
       (SELECT coalesce(sum(orders), 0) FROM recent) AS orders_last_30_days
FROM d;
