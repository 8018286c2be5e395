-- The headline numbers of kpi_purchases for the UI: all days, and the last 30 days. {{money_total}}:
-- the revenues summed exactly (sql/core/exact_sum.sql; total_wide.sql where they could add up to 1e20:
-- NULL, too large to hold exactly, from 1e20 on or when a day's is).
WITH d AS (SELECT * FROM kpi_purchases WHERE grain = 'day'),
     recent AS (SELECT * FROM d WHERE period_start > (SELECT max(period_start) FROM d) - $days)
SELECT {{money_total}} AS revenue,
       coalesce(sum(orders), 0) AS orders,
       {{money_total}} / nullif(sum(orders), 0) AS average_order_value,
       (SELECT {{money_total}} FROM recent) AS revenue_last_30_days,
       (SELECT coalesce(sum(orders), 0) FROM recent) AS orders_last_30_days
FROM d;
