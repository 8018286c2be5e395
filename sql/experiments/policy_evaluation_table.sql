-- The off-policy evaluation as shown in the UI: one row per experiment and policy.
SELECT
    experiment, policy, decisions,
    printf('%.4f [%.4f, %.4f]', dr_rate, dr_low, dr_high) AS dr,
    printf('%+.4f [%+.4f, %+.4f]', incremental, incremental_low, incremental_high) AS incremental,
    printf('%.4f', ips_rate) AS ips
FROM policy_evaluation
ORDER BY experiment, policy;
