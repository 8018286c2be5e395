-- A data-driven model's credits: each touch weighs its channel's weight for the conversion's
-- channel set (table _att_weights: model, channel_set, channel, weight; Markov: the removal effect,
-- Shapley: the Shapley value in that set), normalised over the conversion's touches (equal shares
-- when the weights sum to 0).
INSERT INTO _att_credits
SELECT conversion, conversion_id, customer_id, model, model_type, touch_id, channel, channel_id,
       touched_at, converted_at, value, share, value * share
FROM (
    SELECT p.*, CASE WHEN sum(w.weight) OVER c = 0 THEN 1.0 / p.n ELSE w.weight / sum(w.weight) OVER c END AS share
    FROM (
        SELECT *, array_to_string(list_sort(list_distinct(list(channel) OVER c)), chr(31)) AS channel_set
        FROM _att_pairs WHERE model_type IN ('markov', 'shapley')
        WINDOW c AS (PARTITION BY conversion, conversion_id, model ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ) p
    JOIN _att_weights w ON w.model = p.model AND w.channel_set = p.channel_set AND w.channel = p.channel
    WINDOW c AS (PARTITION BY p.conversion, p.conversion_id, p.model)
)
WHERE share <> 0;
