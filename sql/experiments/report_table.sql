-- The report totals as shown in the UI and by the CLI: one row per experiment and variant.
SELECT experiment, variant, presented, converted, round(conversion_rate, 4),
       round(value_per_presented, 2), round(abs_lift, 4),
       '[' || round(abs_lift_low, 4) || ', ' || round(abs_lift_high, 4) || ']',
       round(rel_lift, 3), round(p_value, 4), round(value_lift, 2), round(value_p_value, 4),
       round(srm_p_value, 4), srm_mismatch, windows
FROM experiment_report
WHERE scope = 'total'
ORDER BY experiment, is_control DESC, variant;
