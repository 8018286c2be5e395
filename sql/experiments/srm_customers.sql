-- The customers of each experiment's sample-ratio check, held out or not, by the date of their first
-- presentation the report counts (complete windows only unless $include_incomplete) and the control
-- share their side was drawn with (results.control_share of their first such presentation that has one,
-- from {{decisions}}; NULL: the experiment's share): control membership is drawn per customer, so the
-- split tested is of customers, not of presentations, each expected in control with their own share.
-- `arm` '' is the experiment's split; the learned policies' experiments ($learned) also have each arm's
-- (its matched comparison, sql/experiments/report_counts.sql): the treated customers drawn it and the
-- control customers it was drawn for and held out (results.held_out_variant), each by their first
-- presentation in it.
WITH presented AS (
    SELECT c.experiment, c.customer_id, c.is_control, c.date, c.drawn_variant, d.held_out_variant, d.control_share
    FROM conversions AS c
    LEFT JOIN {{decisions}} AS d ON c.date = d.date AND c.customer_id = d.customer_id AND c.experiment = d.experiment
    WHERE c.window_complete OR $include_incomplete
),

shares AS (
    SELECT
        experiment, customer_id,
        arg_min(control_share, date) FILTER (WHERE control_share IS NOT NULL) AS control_share
    FROM presented
    GROUP BY ALL
),

arms AS (
    SELECT experiment, customer_id, is_control, date, '' AS arm FROM presented
    UNION ALL
    SELECT
        experiment, customer_id, is_control, date,
        CASE WHEN is_control THEN held_out_variant ELSE drawn_variant END AS arm
    FROM presented
    WHERE list_contains($learned::VARCHAR[], experiment) AND (NOT is_control OR held_out_variant IS NOT NULL)
),

firsts AS (
    SELECT experiment, arm, customer_id, is_control, min(date) AS first_date
    FROM arms
    GROUP BY ALL
)

SELECT f.experiment, f.arm, f.is_control, f.first_date AS date, s.control_share, count(*) AS customers
FROM firsts AS f
INNER JOIN shares AS s USING (experiment, customer_id)
GROUP BY ALL
ORDER BY ALL;
