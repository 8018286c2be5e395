-- Credited conversions and value per model and channel over every day of the snapshot.
SELECT model, channel, sum(conversions) AS conversions, sum(value) AS value
FROM attribution_summary
GROUP BY model, channel
ORDER BY model, channel;
