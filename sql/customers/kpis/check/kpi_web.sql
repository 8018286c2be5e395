-- kpi_web reconciles with `events`: at every grain, the sessions and page views over all periods
-- equal the web session events and the sum of their page views.
-- Rows: (scope, measure, kpi_value, base_value); the check passes when every pair is equal.
WITH base AS (
    SELECT count(*) AS sessions, coalesce(sum(TRY_CAST(properties->>'page_views' AS BIGINT)), 0) AS page_views
    FROM _kpi_events WHERE type = $session_type
), kpi AS (
    SELECT grain, sum(sessions) AS sessions, sum(page_views) AS page_views FROM kpi_web GROUP BY grain
), grains AS (
    SELECT * FROM (VALUES ('day'), ('week'), ('month')) g(grain)
)
SELECT g.grain AS scope, m.measure, CAST(m.kpi_value AS DECIMAL(38,4)) AS kpi_value,
       CAST(m.base_value AS DECIMAL(38,4)) AS base_value
FROM grains g LEFT JOIN kpi k USING (grain) CROSS JOIN base b,
     LATERAL (VALUES ('sessions', coalesce(k.sessions, 0), b.sessions),
                     ('page_views', coalesce(k.page_views, 0), b.page_views)) m(measure, kpi_value, base_value)
ORDER BY 1, 2;
