-- The candidates of the day's conversions, each placed once in time order for every touch set (the
-- models sharing a lookback, channel filter and match criteria; pipeline/attribution/touches.py):
-- <passes> gives p<k> = the touch is in set k; <counts> the set's touches of the conversion, grouped
-- by its number cix: n<k> how many, first<k> / final<k> the order (ord, _att_touches) of the first and
-- the last, last<k> the last one's time; <positions> gives pos<k> = 1 for the set's first touch, n<k>
-- for its last and 2 for those between (no rule-based type reads more of a position; the data-driven
-- models' pairs number their own: touch_set.sql). Time order is ord: equal timestamps ordered by
-- touch_id, so the order, first and last are deterministic. A group per conversion joined back, not a
-- window: no sort of the candidates. Only the columns the models read after their sets are kept (not
-- those the match criteria test, nor the conversion's: joined back by cix where a row needs them). <candidates>: candidates.sql (in
-- candidates_of_days.sql for a range of days), read as they are ranked.
CREATE OR REPLACE TEMP TABLE _att_ranked AS
WITH candidates AS (
    SELECT t.*, {{passes}} FROM ({{candidates}}) AS t
), sets AS (
    SELECT cix, {{counts}} FROM candidates GROUP BY cix
)
SELECT
    c.cix, c.conversion_value, c.touch_id, c.touched_at, c.ord, c.channel, c.channel_id, {{sets}},
    {{positions}}
FROM candidates AS c
INNER JOIN sets AS s ON c.cix = s.cix;
