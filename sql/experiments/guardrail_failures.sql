-- The experiments whose guardrail moved significantly the worse way, over every date.
SELECT count(DISTINCT experiment) FILTER (WHERE guardrail_failed)
FROM experiment_report
WHERE scope = 'total';
