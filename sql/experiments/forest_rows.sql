-- The relative lift of each treated variant and metric over every date, for the forest plot.
SELECT experiment, metric, variant, rel_lift, rel_lift_low, rel_lift_high
FROM experiment_report
WHERE scope = 'total' AND NOT is_control
ORDER BY experiment, metric = 'primary' DESC, metric, variant;
