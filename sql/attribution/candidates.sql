-- Every (conversion, touch) of the same customer with the touch at or before the conversion: the
-- candidates each model then filters (its lookback, channels and match criteria; pairs.sql). `value`
-- is the touch's (what a model's matchCriteria test), `conversion_value` the conversion's;
-- `touch_day` the touch's partition (candidates_of_days.sql); `cix` the conversion's number. Read
-- by ranked.sql as it ranks them, not kept as a table.
SELECT c.cix, c.conversion, c.conversion_id, c.customer_id, c.converted_at, c.day, c.value AS conversion_value,
       t.touch_id, t.touched_at, t.ord, t.touch_day, t.channel, t.channel_id, t.paid, t.campaign, t.source, t.medium,
       t.term, t.content, t.type, t.context, t.value
FROM _att_conversions c
JOIN _att_touches t ON t.customer_id = c.customer_id AND t.touched_at <= c.converted_at
