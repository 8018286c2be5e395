-- Each variant's measured lift of its primary metric (not a guardrail's) with its 95% interval and the
-- control it is against (comparison; NULL for a snapshot published before the report had it: the
-- fragment is the column or NULL, pipeline/cli/findings.py), next to the true lift ($truth: the demo's
-- truth/experiments.json, read as JSON).
WITH truth AS (
    SELECT unnest(json_keys(j -> 'experiments')) AS experiment, j AS doc
    FROM (SELECT json AS j FROM read_json_objects($truth)) AS d
)
SELECT
    r.experiment,
    r.variant,
    r.abs_lift,
    r.abs_lift_low,
    r.abs_lift_high,
    {{comparison_column}} AS comparison,
    (t.doc -> 'experiments' -> r.experiment -> 'true_abs_lift' ->> r.variant)::DOUBLE AS true_lift
FROM experiment_report AS r
LEFT JOIN truth AS t ON r.experiment = t.experiment
WHERE r.scope = 'total' AND NOT r.is_control AND r.metric = 'primary'
ORDER BY r.experiment, r.variant;
