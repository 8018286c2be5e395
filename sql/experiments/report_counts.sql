-- Presented, converted, value moments and the CUPED covariate's counts per experiment, metric
-- ('primary' from `conversions`, each guardrail from `guardrail_conversions`), variant and
-- presentation date, from the presentations whose window is complete (all when $include_incomplete).
SELECT experiment, {{metric_expr}} AS metric, variant, is_control, date,
       count(*) AS presented, count(*) FILTER (WHERE converted) AS converted,
       sum(value)::DOUBLE AS value_sum, sum(value::DOUBLE * value::DOUBLE) AS value_sq,
       count(*) FILTER (WHERE NOT window_complete) AS in_progress,
       count(*) FILTER (WHERE pre_converted) AS pre_converted,
       count(*) FILTER (WHERE pre_converted AND converted) AS pre_and_converted
FROM {{table}}
WHERE window_complete OR $include_incomplete
GROUP BY ALL
ORDER BY experiment, metric, date, variant;
