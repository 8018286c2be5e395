-- Each variant's total lift against control: conversion rate difference with its 95% interval (the
-- primary metric's: a guardrail's rows are not the variant's lift). `capped`: of `presented` (the arm
-- drawn), those a capacity cut, sent nothing; `comparison`: the control the lift is against. A snapshot
-- published before the report had those columns shows them empty (the fragments: the column or NULL,
-- pipeline/activation/report.py).
SELECT
    experiment,
    variant,
    presented,
    {{capped_column}} AS capped,
    converted,
    conversion_rate,
    {{comparison_column}} AS comparison,
    abs_lift,
    abs_lift_low,
    abs_lift_high,
    p_value
FROM experiment_report
WHERE scope = 'total' AND NOT is_control AND metric = 'primary'
ORDER BY experiment, variant;
