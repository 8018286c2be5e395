-- The rule-based models' credits of the conversions attributed, by their day, into <target> (attribution_credits, or the temp
-- table _att_credits): <model_credits> is one rule_model.sql per model, joined by UNION ALL.
-- Touches with no credit are left out.
INSERT INTO {{target}}
SELECT
    day, conversion, conversion_id, customer_id, model, model_type, touch_id, channel, channel_id,
    touched_at, converted_at, value, share, value * share
FROM ({{model_credits}}) AS model_credits
WHERE share > 0;
