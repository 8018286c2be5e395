-- Daily totals per model, conversion source and channel, from the day's credits
-- (summary_credits.sql). The sums are exact (DECIMAL, 18 decimals) so they do not depend on the order the
-- rows are added in: re-running a day gives the same bits. Days whose values could add up to more than
-- DECIMAL(38, 18) holds (value_bound.sql) are summed by summary_wide.sql.
INSERT INTO attribution_summary (date, model, conversion, channel, channel_id, conversions, value)
SELECT _partition_date, model, conversion, channel, any_value(channel_id), sum(share)::DOUBLE, sum(value)::DOUBLE
FROM (
    {{credits}}
) AS credits
WHERE _partition_date BETWEEN $a AND $b
GROUP BY ALL;
