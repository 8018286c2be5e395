-- The events of the days $a..$b by type and context: events, and the anonymous ones.
SELECT type, context, count(*) AS events, count(*) FILTER (WHERE customer_id IS NULL) AS anonymous
FROM events
WHERE _partition_date BETWEEN $a AND $b
GROUP BY ALL
ORDER BY 3 DESC;
