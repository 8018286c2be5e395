-- Daily totals per model, conversion source and channel, from the day's credits.
INSERT INTO attribution_summary
SELECT _partition_date, model, conversion, channel, any_value(channel_id), sum(credit_share), sum(credited_value)
FROM attribution_credits
WHERE _partition_date = $d
GROUP BY ALL;
