-- The data-driven models' credits per touch of the conversions attributed (into <target>, as
-- rule_credits.sql): <shares> is data_driven_shares.sql, the conversion's columns joined back by its
-- number. Touches with no credit are left out.
INSERT INTO {{target}}
SELECT c.day, c.conversion, c.conversion_id, c.customer_id, s.model, s.model_type, s.touch_id, s.channel,
       s.channel_id, s.touched_at, c.converted_at, s.value, s.share, s.value * s.share
FROM ({{shares}}) AS s
JOIN _att_conversions AS c USING (cix)
WHERE s.share <> 0;
