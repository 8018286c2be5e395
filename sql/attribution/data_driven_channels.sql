-- The data-driven models' ($models) credits summed per conversion (its number cix), model and channel
-- for channel_credits.sql: the touches with a credit of data_driven_shares.sql summed so, without a
-- row per touch after the total: a channel's touches of a conversion weigh
-- alike (its weight in the conversion's channel set, or for the types in $split that weight split
-- equally over them), so they share one share, and the exact DECIMAL sum of touches_of_channel equal
-- shares is touches_of_channel times one. The total is still added up touch by touch in time order
-- (pos: list_sum of the ordered list), the same bits as data_driven_shares.sql.
WITH pairs AS (
    SELECT cix, day, model, model_type, touch_id, channel, channel_id, touched_at, value, pos, n
    FROM _att_pairs
    WHERE list_contains($models::VARCHAR [], model)
), per_channel AS (
    SELECT
        cix, model, channel, any_value(day) AS day, any_value(model_type) AS model_type,
        any_value(channel_id) AS channel_id, any_value(value) AS value, any_value(n) AS n,
        count(*) AS touches_of_channel, any_value(touch_id) AS touch_id, max(touched_at) AS touched_at
    FROM pairs
    GROUP BY cix, model, channel
), sets AS (
    SELECT cix, model, array_to_string(list_sort(list(channel)), chr(31)) AS channel_set
    FROM per_channel
    GROUP BY cix, model
), weighted AS (
    SELECT
        pc.*,
        CASE
            WHEN list_contains($split::VARCHAR [], pc.model_type) THEN w.weight / pc.touches_of_channel
            ELSE w.weight
        END AS weight
    FROM per_channel AS pc
    INNER JOIN sets AS s USING (cix, model)
    INNER JOIN _att_weights AS w
        ON w.day = pc.day AND w.model = pc.model AND w.channel_set = s.channel_set AND w.channel = pc.channel
), totals AS (
    SELECT p.cix, p.model, list_sum(list(w.weight ORDER BY p.pos)) AS total
    FROM pairs AS p
    INNER JOIN weighted AS w USING (cix, model, channel)
    GROUP BY p.cix, p.model
), shared AS (
    SELECT w.*, CASE WHEN t.total = 0 THEN 1.0 / w.n ELSE w.weight / t.total END AS share
    FROM weighted AS w
    INNER JOIN totals AS t USING (cix, model)
)
SELECT
    model, model_type, cix, channel, channel_id, touches_of_channel AS touches, touch_id, touched_at,
    touches_of_channel * share::DECIMAL(38, 18) AS credit_share,
    touches_of_channel * (value * share)::DECIMAL(38, 18) AS credited_value
FROM shared
WHERE share <> 0
