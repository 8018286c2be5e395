-- Tonight's candidates of one experiment and their events per hour of day (UTC) in the
-- $history_days before $day (every candidate has a row; hour 0 with 0 events when they have none).
SELECT c.customer_id, coalesce(hour(e.occurred_at), 0) AS hour, count(e.customer_id) AS events
FROM (SELECT DISTINCT customer_id FROM _cand WHERE experiment = $experiment) AS c
LEFT JOIN events AS e
    ON e.customer_id = c.customer_id
    AND e._partition_date < $day AND e._partition_date >= $day - $history_days
GROUP BY ALL
ORDER BY ALL;
