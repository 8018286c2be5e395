-- Tonight's candidates of one experiment and their events per minute of day (UTC, 0..1439) in the
-- $history_days before $day (every candidate has a row; minute 0 with 0 events when they have none):
-- minutes, not hours, as a slot may start within an hour (pipeline/experiments/timing.py).
SELECT
    c.customer_id,
    coalesce(hour(e.occurred_at) * 60 + minute(e.occurred_at), 0) AS minute,
    count(e.customer_id) AS events
FROM (SELECT DISTINCT customer_id FROM _cand WHERE experiment = $experiment) AS c
LEFT JOIN events AS e
    ON
        c.customer_id = e.customer_id
        AND e._partition_date < $day AND e._partition_date >= $day - $history_days
GROUP BY ALL
ORDER BY ALL;
