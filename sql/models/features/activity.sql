-- Event features of _population as of $cutoff, in long form (customer_id, feature, value).
-- This is the only place features read events: strictly before the cut-off (both the event time
-- and its partition) and within $history_days of it. Windows ($windows, days) look back from the
-- cut-off; the config can only choose their lengths (at least 1 day), never their end.
-- One scan of events, aggregated per customer, type and window bucket first (d: how many windows
-- are shorter than the event's age, so the event is in window i, 0-based in ascending order, exactly
-- when d <= i; a window w of whole days is shorter than an age exactly when it is shorter than the
-- age rounded up, so d is looked up per whole day in buckets, not computed per event), then summed
-- per window: the windows join the small per-bucket aggregate, not the
-- events. Sums of `value` stay DECIMAL (exact), so features do not depend on summation order; names
-- and channels are cleaned once per type or channel, not per event.
CREATE OR REPLACE TEMP TABLE _activity AS
WITH ev AS (
    SELECT e.customer_id, e.type, e.channel,
           date_diff('second', e.occurred_at, $cutoff::TIMESTAMP) / 86400.0 AS age_days,
           e.value
    FROM events e JOIN _population p ON p.customer_id = e.customer_id
    WHERE e.occurred_at < $cutoff::TIMESTAMP
      AND e._partition_date < $cutoff::DATE
      AND e.occurred_at >= $cutoff::TIMESTAMP - to_days($history_days::INTEGER)
),
buckets AS (
    SELECT a::INTEGER AS a, len(list_filter(list_sort($windows::INTEGER[]), lambda w: w < a)) AS d
    FROM range(0, $history_days::INTEGER + 2) AS r (a)
),
days AS MATERIALIZED (
    SELECT ev.customer_id, ev.type, b.d,
           count(*) AS n, sum(ev.value) AS v, min(ev.age_days) AS last_age, max(ev.age_days) AS first_age
    FROM ev INNER JOIN buckets AS b ON b.a = ceil(ev.age_days)::INTEGER GROUP BY ALL
),
names AS MATERIALIZED (SELECT DISTINCT type, regexp_replace(type, '[^A-Za-z0-9]+', '_', 'g') AS name FROM days),
windowed AS (
    SELECT customer_id, type, w, sum(n) AS n, sum(v) AS v
    FROM days JOIN (SELECT unnest(list_sort($windows::INTEGER[])) AS w,
                           generate_subscripts(list_sort($windows::INTEGER[]), 1) - 1 AS i) AS ws ON d <= i
    GROUP BY ALL
),
channels AS MATERIALIZED (SELECT customer_id, channel, count(*) AS n FROM ev WHERE channel IS NOT NULL GROUP BY ALL),
channel_names AS (
    SELECT DISTINCT channel, regexp_replace(lower(channel), '[^a-z0-9]+', '_', 'g') AS name FROM channels
),
per_type AS (SELECT customer_id, type, min(last_age) AS last_age, max(first_age) AS first_age FROM days GROUP BY ALL)
SELECT customer_id, 'count_' || name || '_' || w || 'd' AS feature, n::DOUBLE AS value FROM windowed JOIN names USING (type)
UNION ALL
SELECT customer_id, 'value_' || name || '_' || w || 'd', v::DOUBLE FROM windowed JOIN names USING (type) WHERE v IS NOT NULL
UNION ALL
SELECT customer_id, 'days_since_last_' || name, last_age FROM per_type JOIN names USING (type)
UNION ALL
SELECT customer_id, 'count_channel_' || name, sum(n)::DOUBLE
FROM channels JOIN channel_names USING (channel) GROUP BY ALL
UNION ALL
SELECT customer_id, 'days_since_first_event', max(first_age) FROM per_type GROUP BY ALL
UNION ALL
SELECT customer_id, 'days_since_last_event', min(last_age) FROM per_type GROUP BY ALL;
