-- The data-driven models' credits per touch of the conversions attributed (into <target>, as
-- rule_credits.sql): <shares> is data_driven_shares.sql. Touches with no credit are left out.
INSERT INTO {{target}}
SELECT day, conversion, conversion_id, customer_id, model, model_type, touch_id, channel, channel_id,
       touched_at, converted_at, value, share, value * share
FROM ({{shares}}) AS shares
WHERE share <> 0;
