-- The aggregated paths a data-driven model learns from ($model, with <model_filter> over a touch t),
-- for every day d of $first to $last at once: the converting paths (each conversion of d: its touches
-- in its window, in order) and the non-converting ones (each customer without a conversion on d: their
-- touches in the $lookback days ending with d, of partitions from d + 1 - $learning (the longest
-- lookback of the data-driven models) to d). A day's rows are what the day alone gives.
-- Each customer's window touches are listed once, in order, as integers (their order, the first and
-- last day of the range holding them, their channel's code: one sort of plain numbers, not a sort
-- per list), and each day's path is that list filtered to the day. A path is a list of channel codes:
-- indices into $channels (path_channels.sql, sorted, so that the codes sort as the names do; under
-- 2^20 of them). Sorted by day, and by path when $ordered. The range is under 1,024 days.
WITH touched AS (
    SELECT
        t.customer_id, t.ord, t.channel,
        greatest(t.touched_at::DATE, t.touch_day, $first::DATE) AS since,
        least(
            t.touched_at::DATE + ($lookback::INTEGER - 1), t.touch_day + ($learning::INTEGER - 1), $last::DATE
        ) AS until
    FROM _att_touches AS t
    WHERE ({{model_filter}})
), converting_pairs AS (
    SELECT day, cix, channel, pos FROM _att_pairs WHERE model = $model
), codes AS (
    SELECT unnest($channels::VARCHAR[]) AS channel, (generate_subscripts($channels::VARCHAR[], 1) - 1)::BIGINT AS code
), converting AS (
    SELECT p.day, list_transform(list_sort(list((p.pos::BIGINT << 20) | c.code)), lambda x: x & 1048575) AS path
    FROM converting_pairs AS p
    INNER JOIN codes AS c ON p.channel = c.channel
    GROUP BY p.day, p.cix
), held AS (
    -- a touch as (its order among the customer's touches (ord), since, until, channel code)
    SELECT
        t.customer_id,
        (t.ord::BIGINT << 40)
        | ((t.since - $first::DATE)::BIGINT << 30) | ((t.until - $first::DATE)::BIGINT << 20) | c.code AS touch
    FROM touched AS t
    INNER JOIN codes AS c ON t.channel = c.channel
    WHERE t.since <= t.until
), customers AS (
    SELECT customer_id, list_sort(list(touch)) AS touches
    FROM held
    GROUP BY customer_id
), days AS (
    SELECT unnest(generate_series($first::DATE, $last::DATE, INTERVAL 1 DAY))::DATE AS day
), non_converting AS (
    SELECT
        d.day,
        list_transform(
            list_filter(
                c.touches,
                lambda x: ((x >> 30) & 1023) <= d.day - $first::DATE AND d.day - $first::DATE <= ((x >> 20) & 1023)
            ),
            lambda x: x & 1048575
        ) AS path
    FROM customers AS c
    CROSS JOIN days AS d
    ANTI JOIN (SELECT DISTINCT customer_id, day FROM _att_conversions) AS v
        ON c.customer_id = v.customer_id AND d.day = v.day
), counted AS (
    SELECT day, path AS codes, sum(conversions)::BIGINT AS conversions, sum(nulls)::BIGINT AS nulls
    FROM (
        SELECT day, path, 1 AS conversions, 0 AS nulls FROM converting
        UNION ALL
        SELECT day, path, 0, 1 FROM non_converting WHERE len(path) > 0
    ) AS paths
    GROUP BY day, path
)
SELECT day, codes AS path, conversions, nulls
FROM counted
ORDER BY day, CASE WHEN $ordered THEN codes END;
