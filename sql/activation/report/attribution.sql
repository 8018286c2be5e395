-- Credited conversions and value per model and channel over every day of the snapshot. Each sum adds
-- its values in one order (by value: the same values give the same sequence), so the same rows give
-- the same bits on every run and the page's figure of them is kept instead of drawn again.
SELECT
    model,
    channel,
    sum(conversions ORDER BY conversions) AS conversions,
    sum(value ORDER BY value) AS value
FROM attribution_summary
GROUP BY model, channel
ORDER BY model, channel;
