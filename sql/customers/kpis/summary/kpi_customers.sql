-- The headline numbers of kpi_customers for the UI (one row; each column becomes a metadata entry).
WITH d AS (SELECT * FROM kpi_customers WHERE grain = 'day')
SELECT coalesce(arg_max(customers_total, period_start), 0) AS customers_total,
       coalesce(sum(customers_added) FILTER (WHERE period_start > (SELECT max(period_start) FROM d) - $days), 0)
           AS customers_added_last_30_days
FROM d;
