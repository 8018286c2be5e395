-- The arm drawn of the rows of {{table}} (conversions or guardrail_conversions) written before the
-- column: that of their decision in results (from its reason when a capacity cut it,
-- sql/experiments/drawn_results.sql). Run when results exists.
UPDATE {{table}} AS c SET drawn_variant = r.drawn_variant
FROM results AS r
WHERE
    c.drawn_variant IS NULL
    AND r.date = c.date AND r.customer_id = c.customer_id AND r.experiment = c.experiment;
