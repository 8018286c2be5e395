-- The last $days days of kpi_reachability for the plot: (day, series, value).
SELECT period_start AS day, reachability AS series, customers_total AS value FROM kpi_reachability
WHERE grain = 'day' AND period_start > (SELECT max(period_start) FROM kpi_reachability WHERE grain = 'day') - $days
ORDER BY day, series;
