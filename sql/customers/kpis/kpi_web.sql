-- kpi_web: per period of each grain, the web sessions (events of type $session_type) and their page
-- views (sum of properties.page_views). Every period of the calendar has a row, zeros included.
-- An update recomputes the periods from the one holding $since on (all of them: a full rebuild).
INSERT INTO kpi_web (grain, period_start, sessions, page_views)
WITH daily AS (
    SELECT day, count(*) AS sessions,
           coalesce(sum(TRY_CAST(properties->>'page_views' AS BIGINT)), 0) AS page_views
    FROM _kpi_events WHERE type = $session_type AND day >= least(CAST(date_trunc('week', $since) AS DATE), CAST(date_trunc('month', $since) AS DATE))
    GROUP BY day
)
SELECT c.grain, c.period_start, coalesce(sum(d.sessions), 0), coalesce(sum(d.page_views), 0)
FROM _kpi_calendar c LEFT JOIN daily d ON d.day = c.day
WHERE c.period_start >= CAST(date_trunc(c.grain, $since) AS DATE)
GROUP BY c.grain, c.period_start;
