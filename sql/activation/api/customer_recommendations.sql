-- One customer's recommended items per date and recommender model.
SELECT date, model, version, items
FROM recommendations WHERE customer_id = $customer
ORDER BY date, model
