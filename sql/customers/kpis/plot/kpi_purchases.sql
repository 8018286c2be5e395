-- The last $days days of kpi_purchases for the plot: (day, series, value), revenue per context.
SELECT period_start AS day, 'revenue ' || context AS series, revenue AS value FROM kpi_purchases
WHERE grain = 'day' AND period_start > (SELECT max(period_start) FROM kpi_purchases WHERE grain = 'day') - $days
ORDER BY day, series;
