-- One customer's decisions (results rows).
SELECT date, experiment, experiment_group, variant, is_control, score, reason
FROM results WHERE customer_id = $customer
ORDER BY date, experiment
