-- One decision per customer and experiment (and one experiment per customer and group) for $day.
--   control:  a customer the experiment decided before $day keeps the side of their first decision
--             (results.is_control) and the share it was drawn with (results.control_share; NULL, a row
--             decided before the column: the experiment's share); a customer new to it:
--             _unit(customer|experiment|control) < control_share (no date: never changes)
--   policy uniform:
--     explore:  _unit(customer|experiment|explore|day) < exploration   -> uniform among eligible variants
--     else:     P(variant) = propensity / sum of the eligible variants' propensities (A/B: uniform)
--   a learned policy: P(variant) from _policy (pipeline/experiments/learned.py; uplift may choose
--     'no_treatment', an arm of its own)
-- The variant is drawn with the Gumbel-max trick: argmax ln P(v) - ln(-ln u(customer|experiment|day|v)),
-- an exact draw from P seeded by (customer, experiment, day), so re-runs agree. A group keeps, per
-- customer, the experiment with the best expected value (uniform: score x the expected propensity
-- of its draw, exploration included; a learned policy: the expected value of its draw, incremental
-- for uplift); ties by a hash.
-- Control is applied after the group's choice, so control and treated customers of an experiment
-- are chosen the same way and differ only by the hash.
-- assignment_probability: the probability of the row's arm given the experiment: control_share (the
-- share the customer's side was drawn with) for control, (1 - control_share) x P(variant) for a variant.
-- Control and no_treatment are the same action (nothing is sent): both log control_share +
-- (1 - control_share) x P(no_treatment).
-- eligible_variants: the arms the customer could have got (what an off-line evaluation may choose).
-- held_out_variant: for a control row, the variant the policy drew for the customer (drawn as for every
-- candidate, before the hold-out): the arm they would have got. The report compares a learned policy's
-- variant with the control customers drawn the same variant (pipeline/experiments/report.py).
INSERT INTO results BY NAME
WITH prior AS (
    -- the propensity of a variant without closed windows yet (one added to a running experiment): the
    -- mean of the experiment's variants that have some, so that it is not drawn as if converting half
    -- the time until its first windows close (0.5 when none has: a new experiment starts uniform)
    SELECT r.experiment, avg(r.propensity) AS prior
    FROM _rates AS r
    SEMI JOIN (SELECT DISTINCT experiment, variant FROM _cand) AS c USING (experiment, variant)
    GROUP BY r.experiment
), rated AS (
    SELECT c.*, coalesce(r.propensity, pr.prior, 0.5) AS propensity
    FROM _cand c LEFT JOIN _rates r USING (experiment, variant) LEFT JOIN prior pr USING (experiment)
), cand AS (
    SELECT c.customer_id, c.experiment, c.variant, c.propensity,
           x.experiment_group, x.control_share, x.exploration, x.weighted, x.policy,
           pol.p AS policy_p, pol.value AS policy_value, pol.warming,
           count(*) OVER w AS eligible, sum(c.propensity) OVER w AS total,
           list(c.variant ORDER BY c.variant) OVER w AS eligible_variants,
           _unit(c.customer_id || '|' || c.experiment || '|explore|' || $day::VARCHAR) < x.exploration AS explore
    FROM rated c JOIN _exp x USING (experiment)
    LEFT JOIN _policy pol USING (experiment, customer_id, variant)
    WINDOW w AS (PARTITION BY c.customer_id, c.experiment)
), probability AS (
    SELECT *,
           CASE WHEN policy <> 'uniform' THEN policy_p
                WHEN explore OR NOT weighted THEN 1.0 / eligible ELSE propensity / total END AS p,
           CASE WHEN policy <> 'uniform' THEN policy_p
                WHEN NOT weighted THEN 1.0 / eligible
                ELSE exploration / eligible + (1 - exploration) * propensity / total END AS marginal,
           CASE WHEN policy <> 'uniform' THEN policy_value ELSE propensity END AS arm_value
    FROM cand
), chosen AS (
    -- the experiment's expected value for the customer: over the whole draw (the marginal, exploration
    -- included), not the drawn variant nor the exploration coin, so that a group's choice of
    -- experiment never depends on (and never skews) the variant drawn
    SELECT *, sum(marginal * arm_value) OVER e AS expected_propensity,
           coalesce(max(CASE WHEN variant = 'no_treatment' THEN marginal END) OVER e, 0) AS nothing_p
    FROM probability
    WINDOW e AS (PARTITION BY customer_id, experiment)
    QUALIFY row_number() OVER (
        PARTITION BY customer_id, experiment
        ORDER BY p > 0 DESC,
                 ln(greatest(p, 1e-300)) - ln(-ln(_unit(customer_id || '|' || experiment || '|' || $day::VARCHAR || '|' || variant))) DESC,
                 variant) = 1
), valued AS (
    SELECT ch.*,
           CASE WHEN policy <> 'uniform' THEN ch.expected_propensity
                ELSE coalesce(s.score, 1.0) * ch.expected_propensity END AS expected_value
    FROM chosen ch LEFT JOIN _scores s USING (experiment, customer_id)
), sides AS (
    -- the side each customer already decided by the experiment was given first, and the share it was
    -- drawn with (the first recorded): a change of control_share moves no one, it splits the new ones
    SELECT customer_id, experiment, arg_min(is_control, date) AS was_control,
           arg_min(control_share, date) FILTER (WHERE control_share IS NOT NULL) AS drawn_share
    FROM results
    SEMI JOIN (SELECT DISTINCT customer_id, experiment FROM _cand) AS c USING (customer_id, experiment)
    WHERE date < $day
    GROUP BY ALL
), grouped AS (
    SELECT valued.* REPLACE (coalesce(sd.drawn_share, valued.control_share) AS control_share),
           coalesce(sd.was_control, _unit(customer_id || '|' || experiment || '|control') < valued.control_share)
               AS is_control,
           t.send_at
    FROM valued LEFT JOIN _send_at AS t USING (experiment, customer_id)
    LEFT JOIN sides AS sd USING (experiment, customer_id)
    QUALIFY experiment_group IS NULL OR row_number() OVER (
        PARTITION BY customer_id, experiment_group
        ORDER BY expected_value DESC, _unit(customer_id || '|' || experiment_group || '|' || experiment)) = 1
)
SELECT $day AS date, customer_id, experiment, experiment_group,
       CASE WHEN is_control THEN 'control' ELSE variant END AS variant, is_control,
       CASE WHEN is_control THEN 'control' ELSE variant END AS drawn_variant,
       CASE WHEN is_control THEN variant END AS held_out_variant,
       expected_value AS score,
       CASE WHEN is_control THEN printf('control: held out by a hash of customer and experiment (control share %g)', control_share)
            WHEN policy <> 'uniform' AND variant = 'no_treatment'
                THEN printf('%s: no treatment, every variant''s expected incremental value is below zero (probability %.3f)', policy, p)
            WHEN policy <> 'uniform' AND warming IS NOT NULL
                THEN printf('%s: warming up, %s (probability %.3f) among %d eligible arm(s)', policy, warming, p, eligible)
            WHEN policy <> 'uniform'
                THEN printf('%s: expected value %.4f (probability %.3f) among %d eligible arm(s)', policy, arm_value, p, eligible)
            WHEN NOT weighted THEN printf('A/B: uniform among %d eligible variant(s)', eligible)
            WHEN explore THEN printf('exploration: uniform among %d eligible variant(s)', eligible)
            ELSE printf('drawn by propensity %.4f (probability %.3f) among %d eligible variant(s)', propensity, p, eligible)
       END || CASE WHEN experiment_group IS NULL THEN ''
                   ELSE printf('; best expected value %.4f in group %s', expected_value, experiment_group) END AS reason,
       CASE WHEN is_control OR variant = 'no_treatment' THEN control_share + (1 - control_share) * nothing_p
            ELSE (1 - control_share) * marginal END AS assignment_probability,
       CASE WHEN NOT is_control AND variant <> 'no_treatment' THEN send_at END AS send_at,
       eligible_variants, control_share
FROM grouped;
