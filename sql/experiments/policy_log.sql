-- An experiment's logged decisions with a complete conversion window and a logged probability:
-- what the off-policy evaluation learns from (pipeline/experiments/policy_evaluation.py).
-- Days on which a capacity bound are left out whole: their overflow rows were sent nothing but keep
-- the probability of the variant drawn, and whether a row overflows depends on the other rows' draws,
-- so no probability of the action taken can be logged for them (sql/experiments/capacity.sql).
SELECT r.date, r.customer_id, r.variant, r.assignment_probability, c.converted,
       ',' || coalesce(array_to_string(r.eligible_variants, ','), '*') || ',' AS eligible
FROM results AS r
INNER JOIN conversions AS c USING (date, customer_id, experiment)
WHERE
    r.experiment = $experiment AND c.window_complete AND r.assignment_probability > 0
    AND r.date NOT IN (
        SELECT o.date FROM results AS o
        WHERE o.experiment = $experiment AND starts_with(o.reason, 'capacity:')
    )
ORDER BY r.date, r.customer_id;
