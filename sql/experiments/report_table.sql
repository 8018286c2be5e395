-- The report totals as shown on the experiment_report asset's page (its `report` metadata): one row
-- per experiment, metric and variant. `capped`: of `presented` (the arm drawn), those a capacity
-- cut, sent nothing; `comparison`: the control the lifts are against (empty on the control row).
SELECT experiment, metric, variant, presented, capped, converted, round(conversion_rate, 4),
       comparison, round(abs_lift, 4),
       '[' || round(abs_lift_low, 4) || ', ' || round(abs_lift_high, 4) || ']',
       round(rel_lift, 3), round(p_value, 4), round(p_value_adjusted, 4),
       round(cuped_abs_lift, 4),
       '[' || round(cuped_abs_lift_low, 4) || ', ' || round(cuped_abs_lift_high, 4) || ']',
       round(cuped_variance_reduction, 3), round(chance_to_beat_control, 3),
       round(value_lift, 2), round(value_p_value, 4),
       round(srm_p_value, 4), srm_mismatch, guardrail_failed, windows
FROM experiment_report
WHERE scope = 'total'
ORDER BY experiment, metric <> 'primary', metric, is_control DESC, variant;
