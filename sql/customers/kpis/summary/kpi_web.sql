-- The headline numbers of kpi_web for the UI: all days, and the last 30 days.
WITH d AS (SELECT * FROM kpi_web WHERE grain = 'day')
SELECT coalesce(sum(sessions), 0) AS sessions,
       coalesce(sum(page_views), 0) AS page_views,
       CAST(sum(page_views) AS DOUBLE) / nullif(sum(sessions), 0) AS page_views_per_session,
       coalesce(sum(sessions) FILTER (WHERE period_start > (SELECT max(period_start) FROM d) - $days), 0)
           AS sessions_last_30_days
FROM d;
