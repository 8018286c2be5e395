-- The credits of the models not in attribution.perTouchCredits, grouped as they are written
-- (credits_write.sql): one row per conversion, model and channel into _att_channel_credits, with the
-- exact DECIMAL sums kept so the summary adds them up to the same bits. <model_channels> gives them
-- per conversion number (cix): one model_channels.sql per rule-based model joined by UNION ALL, or
-- data_driven_channels.sql; the conversion's columns are joined back by its number.
INSERT INTO _att_channel_credits
SELECT
    c.day, c.conversion, c.conversion_id, c.customer_id, g.model, g.model_type,
    CASE WHEN g.touches = 1 THEN g.touch_id END, g.channel, g.channel_id, g.touched_at, c.converted_at,
    c.value, g.credit_share, g.credited_value, g.touches::INTEGER
FROM ({{model_channels}}) AS g
JOIN _att_conversions AS c USING (cix);
