-- The candidates of the day's conversions, each ranked once in time order for every touch set (the
-- models sharing a lookback, channel filter and match criteria; pipeline/attribution/touches.py):
-- <passes> gives p<k> = the touch is in set k; <running> gives pos<k> = its position among the
-- set's touches of the conversion, n<k> = how many there are, last<k> = the time of the last. One
-- sort of the candidates serves every model. Equal timestamps are ordered by touch_id, so the order
-- (and first/last) is deterministic. Only the columns the models read after their sets are kept (not
-- those the match criteria test), and a conversion is partitioned by its number cix: narrower rows
-- to sort. <candidates>: candidates.sql (in candidates_of_days.sql for a range of days), read as
-- they are ranked.
CREATE OR REPLACE TEMP TABLE _att_ranked AS
SELECT
    cix, conversion, conversion_id, customer_id, converted_at, day, conversion_value, touch_id, touched_at,
    channel, channel_id, {{sets}},
    {{running}}
FROM (SELECT t.*, {{passes}} FROM ({{candidates}}) AS t) AS candidates
WINDOW upto AS (PARTITION BY cix ORDER BY touched_at, touch_id
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
       whole AS (PARTITION BY cix ORDER BY touched_at, touch_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING);
