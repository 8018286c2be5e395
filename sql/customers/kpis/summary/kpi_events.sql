-- The headline numbers of kpi_events for the UI: events over all days and on the last day.
WITH d AS (SELECT * FROM kpi_events WHERE grain = 'day')
SELECT coalesce(sum(events), 0) AS events,
       coalesce(sum(anonymous_events), 0) AS anonymous_events,
       count(DISTINCT type) AS event_types,
       coalesce(sum(events) FILTER (WHERE period_start = (SELECT max(period_start) FROM d)), 0) AS events_last_day
FROM d;
