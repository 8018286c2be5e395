-- The credits of the rule-based models not in attribution.perTouchCredits, grouped as they are
-- written (credits_write.sql): one row per conversion, model and channel, summed straight from the
-- models' shares over their touches (<model_credits>, as in rule_credits.sql) into <target>
-- (_att_channel_credits), with the exact DECIMAL sums kept so the summary adds them up to the same bits.
INSERT INTO {{target}}
SELECT
    day, conversion, conversion_id, any_value(customer_id), model, any_value(model_type),
    CASE WHEN count(touch_id) = 1 THEN any_value(touch_id) END, channel, any_value(channel_id),
    max(touched_at), any_value(converted_at), any_value(value), sum(share::DECIMAL(38, 18)),
    sum((value * share)::DECIMAL(38, 18)), count(touch_id)::INTEGER
FROM ({{model_credits}}) AS model_credits
WHERE share > 0
GROUP BY day, conversion, conversion_id, model, channel;
