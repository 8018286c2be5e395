-- Every (conversion, model, touch) with the touch inside the model's lookback window (and passing
-- its channel filter and match criteria), ranked in time order: one pass, window functions.
-- Equal timestamps are ordered by touch_id, so the order (and first/last) is deterministic.
CREATE OR REPLACE TEMP TABLE _att_pairs AS
SELECT c.conversion, c.conversion_id, c.customer_id, c.converted_at, c.value,
       m.model, m.model_type, m.first_weight, m.last_weight, m.first_share, m.last_share, m.half_life_days,
       t.touch_id, t.channel, t.channel_id, t.touched_at,
       row_number() OVER w AS pos,
       count(*) OVER (PARTITION BY c.conversion, c.conversion_id, m.model) AS n,
       max(t.touched_at) OVER (PARTITION BY c.conversion, c.conversion_id, m.model) AS last_touched_at
FROM _att_conversions c
JOIN _att_touches t ON t.customer_id = c.customer_id AND t.touched_at <= c.converted_at
JOIN _att_touch_models tm ON tm.touch_id = t.touch_id
JOIN _att_models m ON m.model = tm.model
WHERE m.lookback_days IS NULL OR t.touched_at >= c.converted_at - to_days(m.lookback_days)
WINDOW w AS (PARTITION BY c.conversion, c.conversion_id, m.model ORDER BY t.touched_at, t.touch_id);
