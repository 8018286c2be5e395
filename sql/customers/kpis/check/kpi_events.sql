-- kpi_events reconciles with `events`: at every grain, the events and the anonymous events over all
-- periods, types and contexts equal those counted in `events` (excluded customers' left out).
-- Rows: (scope, measure, kpi_value, base_value); the check passes when every pair is equal.
WITH base AS (
    SELECT count(*) AS events, count(*) FILTER (WHERE customer_id IS NULL) AS anonymous_events
    FROM events
    WHERE customer_id IS NULL OR customer_id NOT IN (SELECT customer_id FROM customer_identities WHERE excluded)
), kpi AS (
    SELECT grain, sum(events) AS events, sum(anonymous_events) AS anonymous_events FROM kpi_events GROUP BY grain
), grains AS (
    SELECT * FROM (VALUES ('day'), ('week'), ('month')) g(grain)
)
SELECT g.grain AS scope, m.measure, CAST(m.kpi_value AS DECIMAL(38,4)) AS kpi_value,
       CAST(m.base_value AS DECIMAL(38,4)) AS base_value
FROM grains g LEFT JOIN kpi k USING (grain) CROSS JOIN base b,
     LATERAL (VALUES ('events', coalesce(k.events, 0), b.events),
                     ('anonymous_events', coalesce(k.anonymous_events, 0), b.anonymous_events))
         m(measure, kpi_value, base_value)
ORDER BY 1, 2;
