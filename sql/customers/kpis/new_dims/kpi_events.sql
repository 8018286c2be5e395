-- The (type, context) pairs of the events from $since on that kpi_events has no row of: a new one
-- needs zero rows in every past period, so the table is rebuilt whole.
SELECT count(*) FROM (
    SELECT DISTINCT type, context FROM _kpi_events WHERE day >= $since
    EXCEPT
    SELECT type, context FROM kpi_events
) AS new_pairs;
