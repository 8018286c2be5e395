-- The aggregated paths a data-driven model learns from ($model, with <model_filter> over a touch t),
-- for every day d of $first to $last at once: the converting paths (each conversion of d: its touches
-- in its window, in order) and the non-converting ones (each customer without a conversion on d: their
-- touches in the $lookback days ending with d, of partitions from d + 1 - $learning (the longest
-- lookback of the data-driven models) to d). Each touch is counted on the days whose window holds it;
-- a day's rows are what the day alone gives.
WITH converting AS (
    SELECT day, list(channel ORDER BY pos) AS path
    FROM _att_pairs WHERE model = $model
    GROUP BY day, conversion, conversion_id
), touched AS (
    SELECT
        t.customer_id, t.touched_at, t.touch_id, t.channel,
        greatest(t.touched_at::DATE, t.touch_day, $first::DATE) AS since,
        least(
            t.touched_at::DATE + ($lookback::INTEGER - 1), t.touch_day + ($learning::INTEGER - 1), $last::DATE
        ) AS until
    FROM _att_touches AS t
    WHERE ({{model_filter}})
), held AS (
    SELECT customer_id, touched_at, touch_id, channel, unnest(generate_series(since, until, INTERVAL 1 DAY))::DATE AS day
    FROM touched
    WHERE since <= until
), non_converting AS (
    SELECT h.day, list(h.channel ORDER BY h.touched_at, h.touch_id) AS path
    FROM held AS h
    ANTI JOIN (SELECT DISTINCT customer_id, day FROM _att_conversions) AS c
        ON h.customer_id = c.customer_id AND h.day = c.day
    GROUP BY h.day, h.customer_id
)
SELECT day, path, sum(conversions)::BIGINT AS conversions, sum(nulls)::BIGINT AS nulls
FROM (
    SELECT day, path, 1 AS conversions, 0 AS nulls FROM converting
    UNION ALL
    SELECT day, path, 0, 1 FROM non_converting
) AS paths
GROUP BY day, path
ORDER BY day, path;
