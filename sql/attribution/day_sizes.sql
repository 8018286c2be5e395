-- Each day's size, to cut a backfill's days into ranges that fit DuckDB's memory
-- (pipeline/attribution/ranges.py): for every partition day of $a to $b, `candidates` = its
-- conversions' candidate touches (each conversion of <conversions>, one conversion_source.sql per
-- source joined by UNION ALL, with each touch event of $touch_types of the same customer from
-- $longest days before the conversion's day (since ever when $infinite) up to the conversion, of a
-- partition up to its day: the rows ranked.sql ranks), counted on the customers of one hash bucket in
-- $sample and scaled up; and `touches` = the touch events of the partition (everyone's: the Markov /
-- Shapley paths read them). The touchpoints' criteria are not applied: a day is counted at least as
-- big as it is.
WITH conversions AS (
    SELECT customer_id, converted_at, day
    FROM ({{conversions}}) AS c
    WHERE hash(customer_id) % $sample::UBIGINT = 0
), touches AS (
    SELECT customer_id, occurred_at, _partition_date
    FROM events
    WHERE
        list_contains($touch_types::VARCHAR [], type) AND customer_id IS NOT NULL
        AND _partition_date <= $b AND hash(customer_id) % $sample::UBIGINT = 0
        AND ($infinite OR occurred_at >= $a::DATE - to_days($longest::INTEGER))
), candidates AS (
    SELECT c.day, count(*) * $sample::BIGINT AS candidates
    FROM conversions AS c
    INNER JOIN touches AS t
        ON
            c.customer_id = t.customer_id AND t.occurred_at <= c.converted_at AND t._partition_date <= c.day
            AND t.occurred_at < c.day + INTERVAL 1 DAY
            AND ($infinite OR t.occurred_at >= c.day - to_days($longest::INTEGER))
    GROUP BY c.day
), touched AS (
    SELECT _partition_date AS day, count(*) AS touches
    FROM events
    WHERE list_contains($touch_types::VARCHAR [], type) AND _partition_date BETWEEN $since AND $b
    GROUP BY _partition_date
), days AS (
    SELECT unnest(generate_series($since::DATE, $b::DATE, INTERVAL 1 DAY))::DATE AS day
)
SELECT d.day, coalesce(c.candidates, 0)::BIGINT AS candidates, coalesce(t.touches, 0)::BIGINT AS touches
FROM days AS d
LEFT JOIN candidates AS c ON d.day = c.day
LEFT JOIN touched AS t ON d.day = t.day
ORDER BY d.day;
