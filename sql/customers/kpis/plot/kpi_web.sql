-- The last $days days of kpi_web for the plot: (day, series, value).
WITH recent AS (
    SELECT * FROM kpi_web
    WHERE grain = 'day' AND period_start > (SELECT max(period_start) FROM kpi_web WHERE grain = 'day') - $days
)
SELECT period_start AS day, 'sessions' AS series, sessions AS value FROM recent
UNION ALL
SELECT period_start, 'page views', page_views FROM recent
ORDER BY day, series;
