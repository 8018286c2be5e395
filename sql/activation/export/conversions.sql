-- One presentation day's conversions per presented customer.
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
    window_complete
FROM conversions WHERE date = $day
ORDER BY experiment, customer_id
