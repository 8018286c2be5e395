-- Event features of _rows (the population's customers, numbered) as of $cutoff, in long form (row,
-- feature, value). This is the only place features read events: strictly before the cut-off (both
-- the event time and its partition) and within $history_days of it. Windows ($windows, days) look
-- back from the cut-off; the config can only choose their lengths (at least 1 day), never their end.
-- Events are aggregated once per customer's row and type: {{counts}} and {{sums}} are, per window in
-- ascending order (pipeline/models/features.py), the count and the sum of `value` of the events no
-- older than the window (an event's age in whole seconds: within w days exactly when at most
-- w x 86,400; CASE expressions, cheaper here than FILTER clauses), so the windows never multiply the
-- events or their aggregate; the sums are taken over the events that have a value only (`valued`:
-- about a sixth of them), not evaluated for every event. Groups are keyed by integers (the
-- customer's row), not by customer ids. Ages are kept in seconds and divided once (the same value as
-- the least or greatest of the divided ages). Sums of `value` stay DECIMAL (exact), so features do
-- not depend on summation order; names and channels are cleaned once per distinct type or channel,
-- not per event, and the feature names are built once per type and window (`names`), not per
-- customer; channels are counted per cleaned name directly (the distinct channels of the events
-- mapped first). `ev` is read three times (types, values, channels) rather than kept. A window
-- without events has no count feature (0 in the matrix) and one without values no value feature.
CREATE OR REPLACE TEMP TABLE _activity AS
WITH ev AS NOT MATERIALIZED (
    SELECT r.row, e.type, e.channel, e.value,
           date_diff('second', e.occurred_at, $cutoff::TIMESTAMP) AS age_s
    FROM events AS e INNER JOIN _rows AS r ON r.customer_id = e.customer_id
    WHERE e.occurred_at < $cutoff::TIMESTAMP
      AND e._partition_date < $cutoff::DATE
      AND e.occurred_at >= $cutoff::TIMESTAMP - to_days($history_days::INTEGER)
),
w AS (SELECT list_transform(list_sort($windows::INTEGER[]), lambda d: 86400::BIGINT * d) AS ws),
per_type AS MATERIALIZED (
    SELECT ev.row, ev.type, [{{counts}}] AS ns,
           min(ev.age_s) AS last_s, max(ev.age_s) AS first_s
    FROM ev CROSS JOIN w
    GROUP BY ev.row, ev.type
),
valued AS (
    SELECT ev.row, ev.type, [{{sums}}] AS vs
    FROM ev CROSS JOIN w
    WHERE ev.value IS NOT NULL
    GROUP BY ev.row, ev.type
),
channel_names AS MATERIALIZED (
    SELECT c.channel, regexp_replace(lower(c.channel), '[^a-z0-9]+', '_', 'g') AS name
    FROM (SELECT DISTINCT e.channel FROM events AS e WHERE e.channel IS NOT NULL) AS c
),
channels AS (
    SELECT ev.row, channel_names.name, count(*) AS n
    FROM ev INNER JOIN channel_names USING (channel) GROUP BY ALL
),
cleaned AS (
    SELECT t.type, regexp_replace(t.type, '[^A-Za-z0-9]+', '_', 'g') AS name
    FROM (SELECT DISTINCT per_type.type FROM per_type) AS t
),
names AS MATERIALIZED (
    SELECT cleaned.type, 'days_since_last_' || cleaned.name AS last_name,
           list_transform(list_sort($windows::INTEGER[]), lambda d: 'count_' || cleaned.name || '_' || d || 'd') AS counts,
           list_transform(list_sort($windows::INTEGER[]), lambda d: 'value_' || cleaned.name || '_' || d || 'd') AS values_
    FROM cleaned
),
windowed AS (
    SELECT per_type.row, unnest(per_type.ns) AS n, unnest(names.counts) AS count_name
    FROM per_type INNER JOIN names USING (type)
),
valued_windows AS (
    SELECT valued.row, unnest(valued.vs) AS v, unnest(names.values_) AS value_name
    FROM valued INNER JOIN names USING (type)
)
SELECT windowed.row, windowed.count_name AS feature, windowed.n::DOUBLE AS value
FROM windowed WHERE windowed.n > 0
UNION ALL
SELECT valued_windows.row, valued_windows.value_name, valued_windows.v::DOUBLE
FROM valued_windows WHERE valued_windows.v IS NOT NULL
UNION ALL
SELECT per_type.row, names.last_name, per_type.last_s / 86400.0
FROM per_type INNER JOIN names USING (type)
UNION ALL
SELECT channels.row, 'count_channel_' || channels.name, channels.n::DOUBLE
FROM channels
UNION ALL
SELECT per_type.row, 'days_since_first_event', max(per_type.first_s) / 86400.0 FROM per_type GROUP BY ALL
UNION ALL
SELECT per_type.row, 'days_since_last_event', min(per_type.last_s) / 86400.0 FROM per_type GROUP BY ALL;
