-- The presentations of $day with their counted matches of the metric $metric_name ('primary', or a
-- guardrail's name), into _counted (then written to `conversions` or `guardrail_conversions`).
-- A match counts for a presentation when it is the same customer and experiment and
-- window_start <= at < window_end. Per presentation the earliest match counts (ties: by source name,
-- then value), plus every match of a definition with count: all. pre_converted: a match of the
-- metric's covariate in $pre_start <= at < window_start. Every experiment's presentations when
-- $every, else those of $experiments. The value ({{matched_values}}) is the exact sum of the counted
-- matches' values: sql/core/exact_sum.sql, or match_value_wide.sql where the matches' values could add
-- up to 1e20 (sql/core/value_bound.sql).
CREATE OR REPLACE TEMP TABLE _counted AS
WITH counted AS (
    SELECT * FROM _matches
    WHERE metric = $metric_name AND matched_at >= $start AND matched_at < $end
    QUALIFY keep_all OR row_number() OVER (PARTITION BY customer_id, experiment, keep_all ORDER BY matched_at, source, value) = 1
),
before AS (
    SELECT DISTINCT customer_id, experiment FROM _matches
    WHERE pre_of = $metric_name AND matched_at >= $pre_start AND matched_at < $start
)
SELECT r.date, r.customer_id, r.experiment, $metric_name AS metric, r.variant, r.drawn_variant, r.is_control,
       count(m.matched_at) > 0 AS converted, count(m.matched_at) AS conversions,
       {{matched_values}} AS value, min(m.matched_at) AS first_conversion_at,
       $start AS window_start, $end AS window_end, $complete AS window_complete,
       b.customer_id IS NOT NULL AS pre_converted
FROM results AS r
LEFT JOIN counted AS m ON m.customer_id = r.customer_id AND m.experiment = r.experiment
LEFT JOIN before AS b ON b.customer_id = r.customer_id AND b.experiment = r.experiment
WHERE r.date = $day AND ($every OR list_contains($experiments, r.experiment))
GROUP BY ALL;
