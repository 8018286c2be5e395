-- Event features of _rows (the population's customers, numbered) as of $cutoff, in long form (row,
-- fid, value). This is the only place features read events: strictly before the cut-off (both
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
-- not depend on summation order (doubles where the events' values could add up past what it holds,
-- 1e20: pipeline/models/features.py); names and channels are cleaned once per distinct type or channel,
-- not per event; channels are counted per cleaned name directly (the distinct channels of the events
-- mapped first). A cell names its feature by a number (`fid`), not by its name: the names are built
-- once per type, window and channel, in `_feature_ids` (fid, feature), and the matrix's columns are
-- found from the numbers (cells.sql), never by comparing names per cell. The numbers: 0 and 1 the
-- days since the first and the last event, then per event type (in name order) its count per window,
-- its value per window and its days since the last event, then one per cleaned channel name (all the
-- types and channels of the events, in or out of the window: only the features with a cell become
-- columns). `ev` is read three times (types, values, channels) rather than kept. A window without
-- events has no count feature (0 in the matrix) and one without values no value feature.
CREATE OR REPLACE TEMP TABLE _activity_types AS
WITH t AS (
    SELECT d.type, regexp_replace(d.type, '[^A-Za-z0-9]+', '_', 'g') AS name,
           (2 + (row_number() OVER (ORDER BY d.type) - 1) * (2 * len($windows::INTEGER[]) + 1))::INTEGER AS base
    FROM (SELECT DISTINCT e.type FROM events AS e) AS d
)
SELECT t.type, t.name,
       list_transform(range(len($windows::INTEGER[])), lambda j: (t.base + j)::INTEGER) AS count_fids,
       list_transform(range(len($windows::INTEGER[])), lambda j: (t.base + len($windows::INTEGER[]) + j)::INTEGER) AS value_fids,
       (t.base + 2 * len($windows::INTEGER[]))::INTEGER AS last_fid
FROM t;
CREATE OR REPLACE TEMP TABLE _activity_channels AS
WITH c AS (
    SELECT d.channel, regexp_replace(lower(d.channel), '[^a-z0-9]+', '_', 'g') AS name
    FROM (SELECT DISTINCT e.channel FROM events AS e WHERE e.channel IS NOT NULL) AS d
)
SELECT c.channel, c.name,
       (2 + (SELECT count(*) FROM _activity_types) * (2 * len($windows::INTEGER[]) + 1)
        + dense_rank() OVER (ORDER BY c.name) - 1)::INTEGER AS fid
FROM c;
CREATE OR REPLACE TEMP TABLE _feature_ids AS
SELECT 0 AS fid, 'days_since_first_event' AS feature
UNION ALL
SELECT 1, 'days_since_last_event'
UNION ALL
SELECT unnest(t.count_fids),
       unnest(list_transform(list_sort($windows::INTEGER[]), lambda d: 'count_' || t.name || '_' || d || 'd'))
FROM _activity_types AS t
UNION ALL
SELECT unnest(t.value_fids),
       unnest(list_transform(list_sort($windows::INTEGER[]), lambda d: 'value_' || t.name || '_' || d || 'd'))
FROM _activity_types AS t
UNION ALL
SELECT t.last_fid, 'days_since_last_' || t.name FROM _activity_types AS t
UNION ALL
SELECT DISTINCT c.fid, 'count_channel_' || c.name FROM _activity_channels AS c;
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
channels AS (
    SELECT ev.row, ch.fid, count(*) AS n
    FROM ev INNER JOIN _activity_channels AS ch USING (channel) GROUP BY ALL
),
windowed AS (
    SELECT per_type.row, unnest(per_type.ns) AS n, unnest(t.count_fids) AS fid
    FROM per_type INNER JOIN _activity_types AS t USING (type)
),
valued_windows AS (
    SELECT valued.row, unnest(valued.vs) AS v, unnest(t.value_fids) AS fid
    FROM valued INNER JOIN _activity_types AS t USING (type)
)
SELECT windowed.row, windowed.fid, windowed.n::DOUBLE AS value
FROM windowed WHERE windowed.n > 0
UNION ALL
SELECT valued_windows.row, valued_windows.fid, valued_windows.v::DOUBLE
FROM valued_windows WHERE valued_windows.v IS NOT NULL
UNION ALL
SELECT per_type.row, t.last_fid, per_type.last_s / 86400.0
FROM per_type INNER JOIN _activity_types AS t USING (type)
UNION ALL
SELECT channels.row, channels.fid, channels.n::DOUBLE
FROM channels
UNION ALL
SELECT per_type.row, 0, max(per_type.first_s) / 86400.0 FROM per_type GROUP BY per_type.row
UNION ALL
SELECT per_type.row, 1, min(per_type.last_s) / 86400.0 FROM per_type GROUP BY per_type.row;
DROP TABLE _activity_types;
DROP TABLE _activity_channels;
