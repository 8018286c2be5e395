-- The days $a..$b are built (built_event_days), in the transaction that replaces their events.
INSERT INTO built_event_days
SELECT CAST(d.day AS DATE) AS day
FROM generate_series(CAST($a AS DATE), CAST($b AS DATE), INTERVAL 1 DAY) AS d (day)
WHERE CAST(d.day AS DATE) NOT IN (SELECT b.day FROM built_event_days AS b);
