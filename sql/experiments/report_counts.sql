-- Presented, converted and value moments per experiment, variant and presentation date, from the
-- presentations whose window is complete (all of them when $include_incomplete).
SELECT experiment, variant, is_control, date,
       count(*) AS presented, count(*) FILTER (WHERE converted) AS converted,
       sum(value)::DOUBLE AS value_sum, sum(value * value)::DOUBLE AS value_sq,
       count(*) FILTER (WHERE NOT window_complete) AS in_progress
FROM conversions
WHERE window_complete OR $include_incomplete
GROUP BY ALL
ORDER BY experiment, date, variant;
