-- What a learned policy learns from: the experiment's presentations (control and no_treatment
-- included) of the $lookback_days before $day whose window closed before $day and is complete.
SELECT date, customer_id, variant, is_control, converted, value::DOUBLE AS value
FROM conversions
WHERE experiment = $experiment AND window_complete
  AND date + $window_days <= $day AND date >= $day - $lookback_days
ORDER BY date, customer_id;
