-- Daily totals per model, conversion source and channel, from the day's credits (summed in a fixed order).
INSERT INTO attribution_summary
SELECT _partition_date, model, conversion, channel, any_value(channel_id),
       sum(credit_share ORDER BY conversion_id, touch_id), sum(credited_value ORDER BY conversion_id, touch_id)
FROM attribution_credits
WHERE _partition_date = $d
GROUP BY ALL;
