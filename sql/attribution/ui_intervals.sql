-- Day $b's summary rows with their bootstrap intervals, for the UI, models in their listed order.
SELECT
    model, conversion, channel, conversions, conversions_lower, conversions_upper,
    value, value_lower, value_upper
FROM attribution_summary
WHERE date = $b AND conversions_lower IS NOT NULL
ORDER BY list_position($models, model), conversion, value DESC, channel;
