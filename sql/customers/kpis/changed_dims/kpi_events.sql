-- The (type, context) pairs that an update from $since would get wrong, so the table is rebuilt
-- whole: those of the events from $since on that kpi_events has no row of (a new one needs zero
-- rows in every past period) and those it has that no event holds any more (their only events were
-- from $since on: the last day re-run without them). The days before $since are as they were built,
-- so the pairs they hold are those with events in a day row before it (no second read of every event).
SELECT count(*) FROM (
    (
        SELECT DISTINCT type, context FROM _kpi_events WHERE day >= $since
        EXCEPT
        SELECT type, context FROM kpi_events
    )
    UNION ALL
    (
        SELECT DISTINCT type, context FROM kpi_events
        EXCEPT
        (
            SELECT type, context FROM kpi_events
            WHERE grain = 'day' AND period_start < $since AND events > 0
            UNION
            SELECT type, context FROM _kpi_events WHERE day >= $since
        )
    )
) AS changed_pairs;
