-- kpi_web reconciles with `events`: at every grain, the sessions and page views over the periods
-- from the one holding $since on (the periods the update wrote; every period after a whole
-- rebuild) equal the web session events of those days and the sum of their page views.
-- Rows: (scope, measure, kpi_value, base_value); the check passes when every pair is equal.
WITH grains AS (
    SELECT grain, CAST(date_trunc(grain, $since) AS DATE) AS first_period
    FROM (VALUES ('day'), ('week'), ('month')) AS g (grain)
), daily AS (
    SELECT day, count(*) AS sessions,
           coalesce(sum(TRY_CAST(properties->>'page_views' AS BIGINT)), 0) AS page_views
    FROM _kpi_events
    WHERE type = $session_type AND day >= (SELECT min(first_period) FROM grains)
    GROUP BY day
), base AS (
    SELECT g.grain, coalesce(sum(d.sessions), 0) AS sessions, coalesce(sum(d.page_views), 0) AS page_views
    FROM grains AS g LEFT JOIN daily AS d ON d.day >= g.first_period
    GROUP BY g.grain
), kpi AS (
    SELECT k.grain, sum(k.sessions) AS sessions, sum(k.page_views) AS page_views
    FROM kpi_web AS k JOIN grains AS g ON k.grain = g.grain AND k.period_start >= g.first_period
    GROUP BY k.grain
)
SELECT b.grain AS scope, m.measure, CAST(m.kpi_value AS DECIMAL(38,4)) AS kpi_value,
       CAST(m.base_value AS DECIMAL(38,4)) AS base_value
FROM base b LEFT JOIN kpi k USING (grain),
     LATERAL (VALUES ('sessions', coalesce(k.sessions, 0), b.sessions),
                     ('page_views', coalesce(k.page_views, 0), b.page_views)) m(measure, kpi_value, base_value)
ORDER BY 1, 2;
