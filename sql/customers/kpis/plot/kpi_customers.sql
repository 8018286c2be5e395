-- The last $days days of kpi_customers for the plot: (day, series, value).
SELECT period_start AS day, 'customers total' AS series, customers_total AS value FROM kpi_customers
WHERE grain = 'day' AND period_start > (SELECT max(period_start) FROM kpi_customers WHERE grain = 'day') - $days
ORDER BY day;
