-- The credits of the models not in attribution.perTouchCredits, grouped as they are written
-- (credits_write.sql): one row per conversion (its number cix), model and channel into
-- _att_channel_credits, with the exact DECIMAL sums kept so the summary adds them up to the same bits.
-- <model_channels> gives them: one model_channels.sql per rule-based model joined by UNION ALL, or
-- data_driven_channels.sql.
INSERT INTO _att_channel_credits
SELECT
    g.cix, g.model, g.model_type, CASE WHEN g.touches = 1 THEN g.touch_id END, g.channel, g.channel_id,
    g.touched_at, g.credit_share, g.credited_value, g.touches::INTEGER
FROM ({{model_channels}}) AS g;
