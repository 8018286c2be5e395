-- One presentation day's conversions per presented customer, with the arm drawn (drawn_variant, as in
-- results: what the report analyses).
SELECT
    date,
    customer_id,
    experiment,
    variant,
    is_control,
    converted,
    conversions,
    value,
    first_conversion_at,
    window_complete,
    drawn_variant
FROM conversions WHERE date = $day
ORDER BY experiment, customer_id
