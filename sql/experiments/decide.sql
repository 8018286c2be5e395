-- One decision per customer and experiment (and one experiment per customer and group) for $day.
--   control:  _unit(customer|experiment|control) < control_share      (no date: never changes)
--   explore:  _unit(customer|experiment|explore|day) < exploration   -> uniform among eligible variants
--   else:     P(variant) = propensity / sum of the eligible variants' propensities (A/B: uniform)
-- The variant is drawn with the Gumbel-max trick: argmax ln P(v) - ln(-ln u(customer|experiment|day|v)),
-- an exact draw from P seeded by (customer, experiment, day), so re-runs agree. A group keeps, per
-- customer, the experiment with the best expected value (score x the expected propensity of its
-- draw); ties by a hash.
-- Control is applied after the group's choice, so control and treated customers of an experiment
-- are chosen the same way and differ only by the hash.
INSERT INTO results
WITH cand AS (
    SELECT c.customer_id, c.experiment, c.variant, coalesce(r.propensity, 0.5) AS propensity,
           x.experiment_group, x.control_share, x.exploration, x.weighted,
           count(*) OVER w AS eligible, sum(coalesce(r.propensity, 0.5)) OVER w AS total,
           _unit(c.customer_id || '|' || c.experiment || '|explore|' || $day::VARCHAR) < x.exploration AS explore
    FROM _cand c JOIN _exp x USING (experiment) LEFT JOIN _rates r USING (experiment, variant)
    WINDOW w AS (PARTITION BY c.customer_id, c.experiment)
), probability AS (
    SELECT *, CASE WHEN explore OR NOT weighted THEN 1.0 / eligible ELSE propensity / total END AS p
    FROM cand
), chosen AS (
    -- the experiment's expected propensity for the customer: over the draw, not the drawn variant,
    -- so that a group's choice of experiment never depends on (and never skews) the variant drawn
    SELECT *, sum(p * propensity) OVER (PARTITION BY customer_id, experiment) AS expected_propensity FROM probability
    QUALIFY row_number() OVER (
        PARTITION BY customer_id, experiment
        ORDER BY ln(p) - ln(-ln(_unit(customer_id || '|' || experiment || '|' || $day::VARCHAR || '|' || variant))) DESC,
                 variant) = 1
), valued AS (
    SELECT ch.*, coalesce(s.score, 1.0) * ch.expected_propensity AS expected_value
    FROM chosen ch LEFT JOIN _scores s USING (experiment, customer_id)
), grouped AS (
    SELECT *, _unit(customer_id || '|' || experiment || '|control') < control_share AS is_control
    FROM valued
    QUALIFY experiment_group IS NULL OR row_number() OVER (
        PARTITION BY customer_id, experiment_group
        ORDER BY expected_value DESC, _unit(customer_id || '|' || experiment_group || '|' || experiment)) = 1
)
SELECT $day, customer_id, experiment, experiment_group,
       CASE WHEN is_control THEN 'control' ELSE variant END, is_control, expected_value,
       CASE WHEN is_control THEN printf('control: held out by a hash of customer and experiment (control share %g)', control_share)
            WHEN NOT weighted THEN printf('A/B: uniform among %d eligible variant(s)', eligible)
            WHEN explore THEN printf('exploration: uniform among %d eligible variant(s)', eligible)
            ELSE printf('drawn by propensity %.4f (probability %.3f) among %d eligible variant(s)', propensity, p, eligible)
       END || CASE WHEN experiment_group IS NULL THEN ''
                   ELSE printf('; best expected value %.4f in group %s', expected_value, experiment_group) END
FROM grouped;
