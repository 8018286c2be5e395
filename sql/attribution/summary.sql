-- Daily totals per model, conversion source and channel, from the day's credits per touch
-- (_att_credits). The sums are exact (DECIMAL, 18 decimals) so they do not depend on the order the
-- rows are added in: re-running a day gives the same bits.
INSERT INTO attribution_summary (date, model, conversion, channel, channel_id, conversions, value)
SELECT _partition_date, model, conversion, channel, any_value(channel_id),
       sum(credit_share::DECIMAL(38, 18))::DOUBLE, sum(credited_value::DECIMAL(38, 18))::DOUBLE
FROM _att_credits
WHERE _partition_date BETWEEN $a AND $b
GROUP BY ALL;
