-- Each experiment: its presentation dates, customers presented and variants.
SELECT
    experiment,
    min(date) AS first_date,
    max(date) AS last_date,
    count(*) AS presented,
    list(DISTINCT variant ORDER BY variant) AS variants
FROM results GROUP BY experiment ORDER BY experiment
