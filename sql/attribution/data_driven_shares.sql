-- The data-driven models' ($models) shares of each credited touch (the columns of _att_pairs, weight
-- and share) from the channel weights of the conversion's day and channel set (table _att_weights:
-- day, model, channel_set, channel, weight), normalised over the conversion's touches (equal shares
-- when the weights sum to 0). A touch weighs its channel's weight (Markov: its removal effect) or, for
-- the types in $split (Shapley: a channel's Shapley value in the set, a game over sets), that weight
-- split equally over the channel's touches. Read per touch (data_driven_credits.sql) or per channel
-- (data_driven_channels.sql). The sums over a conversion's touches run in a fixed order (pos): the
-- same bits every run.
WITH pairs AS (
    SELECT * FROM _att_pairs WHERE list_contains($models::VARCHAR [], model)
), per_channel AS (
    SELECT conversion, conversion_id, model, channel, count(*) AS touches_of_channel
    FROM pairs
    GROUP BY ALL
), sets AS (
    SELECT conversion, conversion_id, model, array_to_string(list_sort(list(channel)), chr(31)) AS channel_set
    FROM per_channel
    GROUP BY ALL
), weighted AS (
    SELECT p.*, CASE WHEN list_contains($split::VARCHAR [], p.model_type) THEN w.weight / pc.touches_of_channel ELSE w.weight END AS weight
    FROM pairs p
    JOIN per_channel pc USING (conversion, conversion_id, model, channel)
    JOIN sets s USING (conversion, conversion_id, model)
    JOIN _att_weights w ON w.day = p.day AND w.model = p.model AND w.channel_set = s.channel_set AND w.channel = p.channel
)
SELECT *, CASE WHEN sum(weight) OVER c = 0 THEN 1.0 / n ELSE weight / sum(weight) OVER c END AS share
FROM weighted
WINDOW c AS (PARTITION BY conversion, conversion_id, model ORDER BY pos
             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
