-- Each variant's propensity: the posterior mean (converted + 1) / (presented + 2) of its presentations
-- whose window closed before $day (date + window_days <= $day) and is complete (every day of it
-- loaded, as the learned policies ask: policy_history.sql); 0.5 without any (a uniform prior).
INSERT INTO _rates
SELECT experiment, variant, (count(*) FILTER (WHERE converted) + 1) / (count(*) + 2)
FROM conversions
WHERE NOT is_control AND date + $window_days <= $day AND window_complete
GROUP BY ALL;
