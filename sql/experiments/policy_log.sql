-- An experiment's logged decisions with a complete conversion window and a logged probability:
-- what the off-policy evaluation learns from (pipeline/experiments/policy_evaluation.py).
SELECT r.date, r.customer_id, r.variant, r.assignment_probability, c.converted,
       ',' || coalesce(array_to_string(r.eligible_variants, ','), '*') || ',' AS eligible
FROM results AS r
JOIN conversions AS c USING (date, customer_id, experiment)
WHERE r.experiment = $experiment AND c.window_complete AND r.assignment_probability > 0
ORDER BY r.date, r.customer_id;
