-- The credits summary.sql and summary_wide.sql add up, exact (DECIMAL, 18 decimals): the day's credits
-- per touch (_att_credits) and the rows already summed per channel (_att_channel_credits).
SELECT
    _partition_date, model, conversion, channel, channel_id, credit_share::DECIMAL(38, 18) AS share,
    credited_value::DECIMAL(38, 18) AS value
FROM _att_credits
UNION ALL
SELECT c.day, g.model, c.conversion, g.channel, g.channel_id, g.credit_share, g.credited_value
FROM _att_channel_credits AS g
JOIN _att_conversions AS c USING (cix)
