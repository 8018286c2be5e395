-- The days attributed before (attribution_days, or holding a summary row: a warehouse from before
-- that table) whose credits the identity changes up to rebuild $rebuild (identity_event_changes: a
-- day and a customer whose events changed) may change, other than $days (the run's own): the change's
-- own day; each day a customer of a change converts (events of $types) from the change's day to
-- $longest days after it (the longest lookback; every later day when $infinite); and with a
-- data-driven model ($learning: the longest lookback of those, else 0) every day whose learning
-- window ($learning days ending with it: everyone's paths) holds the change's day.
WITH changes AS (
    SELECT DISTINCT day, customer_id FROM identity_event_changes WHERE rebuild <= $rebuild
), change_days AS (
    SELECT DISTINCT day FROM changes
), reached AS (
    SELECT day FROM change_days
    UNION
    SELECT e._partition_date AS day
    FROM events AS e
    INNER JOIN changes AS c ON e.customer_id = c.customer_id
    WHERE
        list_contains($types::VARCHAR [], e.type) AND e._partition_date >= c.day
        AND ($infinite OR e._partition_date <= c.day + $longest::INTEGER)
    UNION
    SELECT unnest(generate_series(d.day, d.day + ($learning::INTEGER - 1), INTERVAL 1 DAY))::DATE AS day
    FROM change_days AS d
    WHERE $learning::INTEGER > 0
), attributed AS (
    SELECT day FROM attribution_days
    UNION
    SELECT date AS day FROM attribution_summary
)
SELECT r.day
FROM reached AS r
INNER JOIN attributed AS a ON r.day = a.day
WHERE NOT list_contains($days::DATE [], r.day)
ORDER BY r.day;
