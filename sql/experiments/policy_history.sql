-- What a learned policy learns from: the experiment's presentations (control and no_treatment
-- included) of the $lookback_days before $day whose window closed before $day and is complete, and
-- those whose window is still open, with the conversions landed before $day; elapsed_days: the
-- days of its window seen (policies.seen_weights weighs the rows by them). A conversion without its
-- time counts as landed. value: what the row's conversions were worth as known before $day, NULL
-- when that is not known: an open window's value is the sum of every match of the window, also those
-- on or after $day, when the experiment's metric counts every match ($every_match: a definition with
-- count: all); its first conversion (converted) is still known. capped: a capacity cut the row to
-- no_treatment from the variant drawn (drawn_variant; sql/experiments/capacity.sql): sent nothing, but not
-- drawn to nothing, and the lowest expected values of its draw: learned as no arm (learned.history_arms).
SELECT date, customer_id, variant, is_control,
       coalesce(drawn_variant <> variant, FALSE) AS capped,
       converted AND coalesce(first_conversion_at < $day, TRUE) AS converted,
       CASE
           WHEN NOT coalesce(first_conversion_at < $day, TRUE) THEN 0
           WHEN $every_match AND date + $window_days > $day THEN NULL
           ELSE value
       END::DOUBLE AS value,
       least(datediff('day', date, $day), $window_days) AS elapsed_days
FROM conversions
WHERE experiment = $experiment AND date < $day AND date >= $day - $lookback_days
  AND (window_complete AND date + $window_days <= $day OR date + $window_days > $day)
ORDER BY date, customer_id;
