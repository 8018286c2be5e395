-- A data-driven model's credits: the model's share of each channel of the conversion's channel set
-- (table _att_shares: model, channel_set, channel, share), split equally over that channel's touches.
INSERT INTO _att_credits
SELECT p.conversion, p.conversion_id, p.customer_id, p.model, p.model_type, p.touch_id, p.channel, p.channel_id,
       p.touched_at, p.converted_at, p.value, s.share / p.touches_of_channel, p.value * s.share / p.touches_of_channel
FROM (
    SELECT *,
           array_to_string(list_sort(list_distinct(list(channel) OVER c)), chr(31)) AS channel_set,
           count(*) OVER (PARTITION BY conversion, conversion_id, model, channel) AS touches_of_channel
    FROM _att_pairs WHERE model_type IN ('markov', 'shapley')
    WINDOW c AS (PARTITION BY conversion, conversion_id, model ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
) p
JOIN _att_shares s ON s.model = p.model AND s.channel_set = p.channel_set AND s.channel = p.channel
WHERE s.share <> 0;
