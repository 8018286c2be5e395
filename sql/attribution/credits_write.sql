-- The credits of the days $a to $b from _att_credits (one row per credited touch) into attribution_credits: one row
-- per touch for the models in $per_touch (attribution.perTouchCredits), one row per conversion, model
-- and channel for the others (touched_at the channel's last touch, touches how many touches it sums,
-- touch_id the touch when it sums exactly one; exact DECIMAL sums, as summary.sql), and the rows
-- grouped so already (_att_channel_credits, with the conversion's columns joined back by its number).
INSERT INTO attribution_credits (
    _partition_date, conversion, conversion_id, customer_id, model, model_type, touch_id, channel,
    channel_id, touched_at, converted_at, conversion_value, credit_share, credited_value, touches
)
SELECT
    _partition_date, conversion, conversion_id, customer_id, model, model_type, touch_id, channel,
    channel_id, touched_at, converted_at, conversion_value, credit_share, credited_value,
    (touch_id IS NOT NULL)::INTEGER
FROM _att_credits
WHERE _partition_date BETWEEN $a AND $b AND list_contains($per_touch::VARCHAR [], model)
UNION ALL
SELECT
    _partition_date, conversion, conversion_id, any_value(customer_id), model, any_value(model_type),
    CASE WHEN count(touch_id) = 1 THEN any_value(touch_id) END, channel, any_value(channel_id),
    max(touched_at), any_value(converted_at),
    any_value(conversion_value), sum(credit_share::DECIMAL(38, 18))::DOUBLE,
    sum(credited_value::DECIMAL(38, 18))::DOUBLE, count(touch_id)::INTEGER
FROM _att_credits
WHERE _partition_date BETWEEN $a AND $b AND NOT list_contains($per_touch::VARCHAR [], model)
GROUP BY _partition_date, conversion, conversion_id, model, channel
UNION ALL
SELECT
    c.day, c.conversion, c.conversion_id, c.customer_id, g.model, g.model_type, g.touch_id, g.channel,
    g.channel_id, g.touched_at, c.converted_at, c.value, g.credit_share::DOUBLE, g.credited_value::DOUBLE,
    g.touches
FROM _att_channel_credits AS g
JOIN _att_conversions AS c USING (cix)
WHERE c.day BETWEEN $a AND $b;
