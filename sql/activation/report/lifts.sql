-- Each variant's total lift against control: conversion rate difference with its 95% interval (the
-- primary metric's: a guardrail's rows are not the variant's lift).
SELECT
    experiment,
    variant,
    presented,
    converted,
    conversion_rate,
    abs_lift,
    abs_lift_low,
    abs_lift_high,
    p_value
FROM experiment_report
WHERE scope = 'total' AND NOT is_control AND metric = 'primary'
ORDER BY experiment, variant;
