-- The cumulative relative lift of the primary metric of each treated variant, date by date, for
-- the lift plot.
SELECT experiment, variant, to_date, rel_lift, rel_lift_low, rel_lift_high
FROM experiment_report
WHERE scope = 'cumulative' AND NOT is_control AND metric = 'primary'
ORDER BY experiment, variant, to_date;
