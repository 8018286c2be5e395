-- One experiment's report rows.
SELECT * FROM experiment_report WHERE experiment = $experiment
ORDER BY scope, from_date, to_date, is_control DESC, variant
