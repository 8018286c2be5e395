-- The relative lift of each treated variant and metric over every date, as measured and CUPED-adjusted,
-- for the forest plot.
SELECT experiment, metric, variant, rel_lift, rel_lift_low, rel_lift_high,
       cuped_rel_lift, cuped_rel_lift_low, cuped_rel_lift_high
FROM experiment_report
WHERE scope = 'total' AND NOT is_control
ORDER BY experiment, metric = 'primary' DESC, metric, variant;
