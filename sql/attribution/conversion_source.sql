-- One conversion source's conversions of day $d: events of type <type> matching its criteria
-- (<match>), worth the fixed <value> or else the event's value (0 when it has none; a Float
-- value as the double it is).
SELECT
    {{name}}::VARCHAR AS conversion,
    e.event_id AS conversion_id,
    e.customer_id,
    e.occurred_at AS converted_at,
    coalesce({{value}}::DOUBLE, e.float_value, e.value::DOUBLE, 0.0) AS value
FROM events AS e
WHERE e._partition_date = $d AND e.customer_id IS NOT NULL AND e.type = {{type}} AND {{match}}
