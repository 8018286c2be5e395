-- The decisions of a date and/or an experiment (either may be NULL: all), one page.
SELECT date, customer_id, experiment, experiment_group, variant, is_control, score, reason, send_at
FROM results
WHERE ($day IS NULL OR date = $day) AND ($experiment IS NULL OR experiment = $experiment)
ORDER BY date, experiment, customer_id
LIMIT $page_rows OFFSET $skip_rows
