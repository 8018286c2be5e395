-- The variant the policy drew for each control row of the learned policies' experiments ($learned),
-- held out (results.held_out_variant; NULL for a row decided before the column): the report's
-- matched control (sql/experiments/report_counts.sql).
SELECT date, customer_id, experiment, held_out_variant
FROM results
WHERE is_control AND list_contains($learned::VARCHAR[], experiment)
