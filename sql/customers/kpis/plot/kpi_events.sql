-- The last $days days of kpi_events for the plot: (day, series, value), one series per type and context.
SELECT period_start AS day, type || ' (' || context || ')' AS series, events AS value FROM kpi_events
WHERE grain = 'day' AND period_start > (SELECT max(period_start) FROM kpi_events WHERE grain = 'day') - $days
ORDER BY day, series;
