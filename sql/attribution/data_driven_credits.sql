-- A data-driven model's credits from the channel weights of the conversion's channel set (table
-- _att_weights: model, channel_set, channel, weight), normalised over the conversion's touches
-- (equal shares when the weights sum to 0). Markov: each touch weighs its channel's removal
-- effect. Shapley: each channel weighs its Shapley value in the set (a game over sets), split
-- equally over that channel's touches.
INSERT INTO _att_credits
SELECT conversion, conversion_id, customer_id, model, model_type, touch_id, channel, channel_id,
       touched_at, converted_at, value, share, value * share
FROM (
    SELECT *, CASE WHEN sum(weight) OVER c = 0 THEN 1.0 / n ELSE weight / sum(weight) OVER c END AS share
    FROM (
    SELECT p.*, CASE WHEN p.model_type = 'shapley' THEN w.weight / p.touches_of_channel ELSE w.weight END AS weight
    FROM (
        SELECT *, array_to_string(list_sort(list_distinct(list(channel) OVER c)), chr(31)) AS channel_set,
               count(*) OVER (PARTITION BY conversion, conversion_id, model, channel) AS touches_of_channel
        FROM _att_pairs WHERE model_type IN ('markov', 'shapley')
        WINDOW c AS (PARTITION BY conversion, conversion_id, model ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ) p
    JOIN _att_weights w ON w.model = p.model AND w.channel_set = p.channel_set AND w.channel = p.channel
    )
    WINDOW c AS (PARTITION BY conversion, conversion_id, model ORDER BY pos
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)  -- a fixed order: the same bits every run
)
WHERE share <> 0;
