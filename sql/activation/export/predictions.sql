-- One night's scores per customer and model.
SELECT date, customer_id, model, version, score
FROM predictions WHERE date = $day
ORDER BY model, customer_id
