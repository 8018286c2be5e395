-- The data-driven models' credits summed per conversion (its number cix), model and channel for
-- channel_credits.sql: <shares> is data_driven_shares.sql; the touches with a credit (as
-- data_driven_credits.sql keeps them) summed with exact DECIMAL sums, as model_channels.sql does.
SELECT
    model, any_value(model_type) AS model_type, cix, channel, any_value(channel_id) AS channel_id,
    count(touch_id) AS touches, any_value(touch_id) AS touch_id, max(touched_at) AS touched_at,
    sum(share::DECIMAL(38, 18)) AS credit_share, sum((value * share)::DECIMAL(38, 18)) AS credited_value
FROM ({{shares}}) AS shares
WHERE share <> 0
GROUP BY cix, model, channel
