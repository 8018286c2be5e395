-- One conversion source's conversions of the days $a to $b (their day: the event's partition): events of type <type> matching its criteria
-- (<match>), worth the fixed <value> or else the event's value (0 when it has none; a Float
-- value as the double it is). A Float beyond what DECIMAL(38,18) holds (|value| of 1e20 or more, or
-- not finite) has no `value` (ingestion keeps it in float_value only) and counts as none, as the KPIs
-- read it: the exact DECIMAL sums of its credits could not hold it.
SELECT
    {{name}}::VARCHAR AS conversion,
    e.event_id AS conversion_id,
    e.customer_id,
    e.occurred_at AS converted_at,
    e._partition_date AS day,
    coalesce({{value}}::DOUBLE, CASE WHEN e.value IS NOT NULL THEN coalesce(e.float_value, e.value::DOUBLE) END, 0.0)
        AS value
FROM events AS e
WHERE e._partition_date BETWEEN $a AND $b AND e.customer_id IS NOT NULL AND e.type = {{type}} AND {{match}}
