-- The rule-based models' credits of the conversions attributed, by their day, into <target> (attribution_credits, or the temp
-- table _att_credits): <model_credits> is one rule_model.sql per model, joined by UNION ALL.
-- Touches with no credit are left out; the conversion's columns are joined back by its number cix.
INSERT INTO {{target}}
SELECT
    c.day, c.conversion, c.conversion_id, c.customer_id, m.model, m.model_type, m.touch_id, m.channel,
    m.channel_id, m.touched_at, c.converted_at, m.value, m.share, m.value * m.share
FROM ({{model_credits}}) AS m
INNER JOIN _att_conversions AS c ON m.cix = c.cix
WHERE m.share > 0;
