-- One night's recommended items per customer and recommender model.
SELECT date, customer_id, model, version, items
FROM predictions WHERE date = $day AND items IS NOT NULL
ORDER BY model, customer_id
