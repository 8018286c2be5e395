-- The window's totals per model and channel for the UI, models in their listed order ($models).
SELECT model, channel, sum(conversions) AS conversions, sum(value) AS value
FROM attribution_summary
WHERE date BETWEEN $a AND $b
GROUP BY model, channel
ORDER BY list_position($models, model), value DESC, channel;
