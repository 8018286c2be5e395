-- One presentation day's decisions (made the night before) with each variant's code, category and message
-- (from the config's variants, registered as _variants; control has none) and when to send it (send_at, UTC;
-- NULL: no time chosen); the arm drawn (drawn_variant: the variant before a capacity cut it, 'control' for
-- the held-out) and, for a control row, the variant the policy drew and held out (held_out_variant): what the
-- report compares (sql/experiments/report_counts.sql); the probability the decision had
-- (assignment_probability) and the arms the customer was eligible for (eligible_variants): what an off-policy
-- evaluation needs (pipeline/experiments/policy_evaluation.py).
SELECT
    r.customer_id,
    r.experiment,
    r.experiment_group AS "group",
    r.date,
    r.variant,
    r.score,
    r.reason,
    v.code,
    v.category,
    v.message,
    r.send_at,
    r.drawn_variant,
    r.held_out_variant,
    r.assignment_probability,
    r.eligible_variants
FROM results AS r
LEFT JOIN _variants AS v ON r.variant = v.name
WHERE r.date = $day
ORDER BY r.experiment, r.customer_id
