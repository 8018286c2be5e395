-- One rule-based model's credits summed per conversion (its number cix) and channel: <touches> is its
-- rule_model.sql (shares per touch), those with a credit summed with exact DECIMAL sums (as
-- credits_write.sql regroups rows per touch); <model> and <model_type> name it. Grouping one model at
-- a time by the conversion's number keeps the keys small.
SELECT
    {{model}}::VARCHAR AS model,
    {{model_type}}::VARCHAR AS model_type,
    channels.*
FROM (
    SELECT
        cix, channel, any_value(channel_id) AS channel_id, count(touch_id) AS touches,
        any_value(touch_id) AS touch_id, max(touched_at) AS touched_at,
        sum(share::DECIMAL(38, 18)) AS credit_share, sum((value * share)::DECIMAL(38, 18)) AS credited_value
    FROM ({{touches}}) AS model_touches
    WHERE share > 0
    GROUP BY cix, channel
) AS channels
