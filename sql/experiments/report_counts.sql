-- The sums the report's per-customer statistics need (pipeline/experiments/report.py `Counts`), per
-- experiment, metric ('primary' from `conversions`, each guardrail from `guardrail_conversions`),
-- variant and presentation date, from the presentations whose window is complete (all when
-- $include_incomplete). The variant is the arm drawn (`drawn_variant`), not the one given: a capacity
-- sends nothing to the drawn customers of lowest expected value, so the customers given a capped
-- variant are its best ones, not a random part of it; counted in the arm drawn (intent to treat) they
-- are, and `capped` counts them. Control is drawn per customer, so the customer is the unit: per
-- customer of a variant, m = its presentations, d = those converted, v = their value, each counted up
-- to the date, and x = the customer's CUPED covariate, pre_converted of their first presentation of
-- the experiment (before any variant reached them). A sum over customers of a square or product of
-- those running counts is written as its increments, presentation by presentation in date order: one
-- adds cm^2 - (cm - 1)^2 = 2 cm - 1 to the sum of m^2 (cm: the customer's presentations so far, this
-- one included; likewise cd^2 - (cd - d)^2 and cm cd - (cm - 1)(cd - d) = cd + d (cm - 1)), so that the
-- running sum over dates (the cumulative rows) and the sum over all dates (the totals) are exactly the
-- sums over customers of their counts up to that date. `customers` and `pre_converted` count a
-- customer at their first presentation of the variant.
-- The control rows come once with `control_of` '' (the whole control group), and those of the learned
-- policies' experiments ($learned) once more with `control_of` the variant the policy drew for them
-- and held out (results.held_out_variant, from sql/experiments/control_draws.sql, or none
-- without `results`): the matched control of that variant, counted per customer as a variant is.
-- `undrawn` counts the control presentations of those experiments without a recorded draw (decided
-- before the column): their report falls back to the whole control group.
-- The values' sums, per customer and date ({{running_value}}) and per row ({{summed_values}}), are exact:
-- value_sum.sql, or value_sum_wide.sql where the table's values could add up to 1e20 (sql/core/value_bound.sql).
WITH counted AS (
    SELECT
        c.experiment, {{metric_expr}} AS metric, c.drawn_variant AS variant,
        c.variant <> c.drawn_variant AS capped, c.is_control, c.customer_id, c.date, c.converted::INT AS d,
        c.value, c.window_complete, c.pre_converted, d.held_out_variant,
        c.is_control AND list_contains($learned::VARCHAR[], c.experiment) AND d.held_out_variant IS NULL AS undrawn
    FROM {{table}} AS c
    LEFT JOIN {{draws}} AS d ON c.date = d.date AND c.customer_id = d.customer_id AND c.experiment = d.experiment
),

presentations AS (
    SELECT * EXCLUDE (held_out_variant), '' AS control_of FROM counted
    UNION ALL
    SELECT * EXCLUDE (held_out_variant, undrawn), FALSE AS undrawn, held_out_variant AS control_of
    FROM counted
    WHERE is_control AND held_out_variant IS NOT NULL
),

firsts AS (
    SELECT experiment, metric, customer_id, arg_min(pre_converted, (date, variant))::INT AS x
    FROM counted
    GROUP BY ALL
),

running AS (
    SELECT
        p.experiment, p.metric, p.variant, p.is_control, p.control_of, p.date, p.d, p.value,
        p.window_complete, p.capped, p.undrawn, f.x,
        row_number() OVER w AS cm, (sum(p.d) OVER w)::BIGINT AS cd, {{running_value}} AS cv
    FROM presentations AS p
    INNER JOIN firsts AS f USING (experiment, metric, customer_id)
    WHERE p.window_complete OR $include_incomplete
    WINDOW w AS (
        PARTITION BY p.experiment, p.metric, p.variant, p.control_of, p.customer_id
        ORDER BY p.date ROWS UNBOUNDED PRECEDING
    )
)

SELECT
    experiment, metric, variant, is_control, control_of, date,
    count(*) AS presented, sum(d)::BIGINT AS converted, {{summed_values}} AS value_sum,
    count(*) FILTER (WHERE NOT window_complete) AS in_progress,
    count(*) FILTER (WHERE capped) AS capped,
    count(*) FILTER (WHERE undrawn) AS undrawn,
    count(*) FILTER (WHERE cm = 1) AS customers,
    sum(2 * cm - 1)::BIGINT AS presented_sq,
    sum(d * (2 * cd - 1))::BIGINT AS converted_sq,
    sum(cd + d * (cm - 1))::BIGINT AS presented_converted,
    sum(value::DOUBLE * (2 * cv - value::DOUBLE)) AS value_sq,
    sum(cv + value::DOUBLE * (cm - 1)) AS presented_value,
    count(*) FILTER (WHERE cm = 1 AND x = 1) AS pre_converted,
    sum(x * d)::BIGINT AS pre_and_converted,
    sum(x)::BIGINT AS pre_and_presented
FROM running
GROUP BY ALL
ORDER BY experiment, metric, date, variant, control_of;
