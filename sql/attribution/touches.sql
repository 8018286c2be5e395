-- The touches a day's attribution reads, with their channel's id and paid flag: <touches> is one
-- touch_source.sql per touchpoint spec, joined by UNION ALL (in touches_once.sql when two specs
-- share a type). A touch needs a channel. <criteria> gives the columns a model's match criteria may
-- test (campaign, source, medium, term, content, type, context, value): those no model tests are
-- NULL (touch_criteria_columns in pipeline/attribution/touches.py), the day's whole window of
-- everyone's touches is not copied with them. ord numbers each customer's touches in time order
-- (equal timestamps by touch_id): what the ranking and the paths order them by.
CREATE OR REPLACE TEMP TABLE _att_touches AS
SELECT
    u.touch_id, u.customer_id, u.touched_at, u.touch_day, u.channel, ch.channel_id, coalesce(ch.paid, FALSE) AS paid,
    row_number() OVER (PARTITION BY u.customer_id ORDER BY u.touched_at, u.touch_id)::INTEGER AS ord,
    {{criteria}}
FROM ({{touches}}) AS u
LEFT JOIN _att_channels AS ch ON u.channel = ch.name
WHERE u.channel IS NOT NULL;
