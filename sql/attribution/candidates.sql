-- Every (conversion, touch) of the same customer with the touch at or before the conversion: the
-- candidates each model then filters (its lookback, channels and match criteria; pairs.sql). `value`
-- is the touch's (what a model's matchCriteria test), `conversion_value` the conversion's. A
-- conversion of day d sees the touches its day alone reads (touch_source.sql): partitions up to d,
-- before the end of d, and from d - $longest days on (unless $infinite), whatever the range.
CREATE OR REPLACE TEMP TABLE _att_candidates AS
SELECT c.conversion, c.conversion_id, c.customer_id, c.converted_at, c.day, c.value AS conversion_value,
       t.touch_id, t.touched_at, t.channel, t.channel_id, t.paid, t.campaign, t.source, t.medium, t.term,
       t.content, t.type, t.context, t.value
FROM _att_conversions c
JOIN _att_touches t
    ON t.customer_id = c.customer_id AND t.touched_at <= c.converted_at AND t.touch_day <= c.day
    AND t.touched_at < c.day + INTERVAL 1 DAY
    AND ($infinite OR t.touched_at >= c.day - to_days($longest::INTEGER));
