-- One night's results as exported: customer, experiment, group, date, variant (or control), score, why.
SELECT customer_id, experiment, experiment_group, date, variant, score, reason
FROM results WHERE date = $day
ORDER BY experiment, customer_id;
