-- The presentations of $day with their counted matches. A match counts for a presentation when it
-- is the same customer and experiment and window_start <= at < window_end. Per presentation the
-- earliest match counts (ties: by source name, then value), plus every match of a definition with
-- count: all.
INSERT INTO conversions
WITH counted AS (
    SELECT * FROM _matches
    QUALIFY keep_all OR row_number() OVER (PARTITION BY customer_id, experiment, keep_all ORDER BY matched_at, source, value) = 1
)
SELECT r.date, r.customer_id, r.experiment, r.variant, r.is_control,
       count(m.matched_at) > 0, count(m.matched_at), coalesce(sum(m.value), 0), min(m.matched_at), $start, $end, $complete
FROM results r
LEFT JOIN counted m ON m.customer_id = r.customer_id AND m.experiment = r.experiment
                   AND m.matched_at >= $start AND m.matched_at < $end
WHERE r.date = $day
GROUP BY ALL;
