-- The touches of touchpoint spec <spec>: events of type <type> matching its criteria
-- (<match>), with its fixed <channel> or else the event's channel, up to the last day attributed
-- ($day, $end). They are the converters' touches from $start (or since ever when $infinite) and, only
-- when $paths (a data-driven model learns from each day's non-converting paths), everyone's touches
-- from $paths_start (partition $paths_day on). Rule-based models never read another customer's
-- touches. touch_day is the touch's partition: a day's attribution reads only those up to the day.
SELECT
    {{spec}}::INTEGER AS spec,
    e.event_id AS touch_id,
    e.customer_id,
    e.occurred_at AS touched_at,
    e._partition_date AS touch_day,
    coalesce({{channel}}::VARCHAR, e.channel) AS channel,
    e.utm_campaign AS campaign,
    e.utm_source AS source,
    e.utm_medium AS medium,
    e.utm_term AS term,
    e.utm_content AS content,
    e.type,
    e.context,
    e.value
FROM events AS e
WHERE
    e.type = {{type}} AND e.customer_id IS NOT NULL AND e.occurred_at < $end AND e._partition_date <= $day
    AND {{match}}
    AND (
        (
            e.customer_id IN (SELECT customer_id FROM _att_conversions)
            AND ($infinite OR e.occurred_at >= $start)
        )
        OR ($paths AND e.occurred_at >= $paths_start AND e._partition_date >= $paths_day)
    )
