-- The data-driven models' ($models) shares of each credited touch (the columns of _att_pairs read
-- after it, weight and share; a conversion by its number cix) from the channel weights of the conversion's day and channel set (table _att_weights:
-- day, model, channel_set, channel, weight), normalised over the conversion's touches (equal shares
-- when the weights sum to 0). A touch weighs its channel's weight (Markov: its removal effect) or, for
-- the types in $split (Shapley: a channel's Shapley value in the set, a game over sets), that weight
-- split equally over the channel's touches. Read per touch (data_driven_credits.sql, the bootstrap);
-- data_driven_channels.sql gives the same per channel. A conversion's weights are added up one after the other in time order
-- (pos: list_sum of the ordered list), the same bits every run. Narrow rows, grouped by the
-- conversion's number (cix): less to sort and hash.
WITH pairs AS (
    SELECT cix, day, model, model_type, touch_id, channel, channel_id, touched_at, value, pos, n
    FROM _att_pairs
    WHERE list_contains($models::VARCHAR [], model)
), per_channel AS (
    SELECT cix, model, channel, count(*) AS touches_of_channel
    FROM pairs
    GROUP BY ALL
), sets AS (
    SELECT cix, model, array_to_string(list_sort(list(channel)), chr(31)) AS channel_set
    FROM per_channel
    GROUP BY ALL
), weighted AS (
    SELECT p.*, CASE WHEN list_contains($split::VARCHAR [], p.model_type) THEN w.weight / pc.touches_of_channel ELSE w.weight END AS weight
    FROM pairs p
    JOIN per_channel pc USING (cix, model, channel)
    JOIN sets s USING (cix, model)
    JOIN _att_weights w ON w.day = p.day AND w.model = p.model AND w.channel_set = s.channel_set AND w.channel = p.channel
), totals AS (
    SELECT cix, model, list_sum(list(weight ORDER BY pos)) AS total
    FROM weighted
    GROUP BY cix, model
)
SELECT w.*, CASE WHEN t.total = 0 THEN 1.0 / w.n ELSE w.weight / t.total END AS share
FROM weighted AS w
JOIN totals AS t USING (cix, model)
