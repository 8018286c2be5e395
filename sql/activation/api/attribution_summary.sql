-- Credited conversions and value per model and channel over the days a..b (NULL: unbounded).
SELECT
    model,
    channel,
    sum(conversions) AS conversions,
    sum(value) AS value
FROM attribution_summary
WHERE ($a IS NULL OR date >= $a) AND ($b IS NULL OR date <= $b) AND ($model IS NULL OR model = $model)
GROUP BY model, channel
ORDER BY model, value DESC, channel
