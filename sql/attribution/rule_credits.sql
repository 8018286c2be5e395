-- The rule-based models' credits of day $d, into {target} (attribution_credits, or the temp table
-- _att_credits): {model_credits} is one SELECT per model over its touch set
-- (pipeline/attribution.py _rule_credits_sql) giving each touch a weight by its position (pos of n)
-- or age and share = weight / the conversion's total. Touches with no credit are left out.
INSERT INTO {target}
SELECT $d, conversion, conversion_id, customer_id, model, model_type, touch_id, channel, channel_id,
       touched_at, converted_at, value, share, value * share
FROM ({model_credits})
WHERE share > 0;
