-- One night's decisions with each variant's code, category and message (from the config's
-- variants, registered as _variants; control has none) and when to send it (send_at, UTC; NULL:
-- no time chosen); the arm drawn (drawn_variant: the variant before a capacity cut it, 'control' for
-- the held-out) and, for a control row, the variant the policy drew and held out (held_out_variant):
-- what the report compares (sql/experiments/report_counts.sql).
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
    r.held_out_variant
FROM results AS r
LEFT JOIN _variants AS v ON r.variant = v.name
WHERE r.date = $day
ORDER BY r.experiment, r.customer_id
