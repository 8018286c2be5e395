-- The days whose events were built (_built_days), read before any event is dropped: those recorded in
-- built_event_days and those holding events (a warehouse whose events were built before the days
-- were recorded).
CREATE OR REPLACE TEMP TABLE _built_days AS
SELECT b.day FROM built_event_days AS b
UNION
SELECT DISTINCT e._partition_date AS day FROM events AS e;
