-- One conversion day's credits per model and touch.
SELECT
    _partition_date AS date,
    conversion,
    conversion_id,
    customer_id,
    model,
    channel,
    touched_at,
    converted_at,
    conversion_value,
    credit_share,
    credited_value
FROM attribution_credits WHERE _partition_date = $day
ORDER BY model, conversion_id, channel, touch_id
