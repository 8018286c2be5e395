-- The aggregated paths a data-driven model learns from, for one model ($model): the converting
-- paths (each conversion's touches in its window, in order) and the non-converting ones (each
-- customer without a conversion that day: their touches in the lookback window ending with the day
-- that pass the model's filter, <model_filter> over the touch t).
WITH converting AS (
    SELECT list(channel ORDER BY pos) AS path
    FROM _att_pairs WHERE model = $model
    GROUP BY conversion, conversion_id
), non_converting AS (
    SELECT list(t.channel ORDER BY t.touched_at, t.touch_id) AS path
    FROM _att_touches t
    WHERE t.touched_at >= $start AND t.touched_at < $end AND ({{model_filter}})
      AND t.customer_id NOT IN (SELECT customer_id FROM _att_conversions)
    GROUP BY t.customer_id
)
SELECT path, sum(conversions)::BIGINT AS conversions, sum(nulls)::BIGINT AS nulls
FROM (
    SELECT path, 1 AS conversions, 0 AS nulls FROM converting
    UNION ALL
    SELECT path, 0, 1 FROM non_converting
) AS paths
GROUP BY path
ORDER BY path;
