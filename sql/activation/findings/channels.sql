-- The channels credited the most value by one attribution model, over every day.
SELECT channel, sum(value) AS value
FROM attribution_summary
WHERE model = $model AND channel <> '(unattributed)'
GROUP BY channel
ORDER BY value DESC, channel
LIMIT 3;
