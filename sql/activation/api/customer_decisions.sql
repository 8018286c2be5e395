-- One customer's decisions (results rows), with when to send each (send_at, UTC; NULL: no time).
SELECT date, experiment, experiment_group, variant, is_control, score, reason, send_at
FROM results WHERE customer_id = $customer
ORDER BY date, experiment
