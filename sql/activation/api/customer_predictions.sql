-- Every prediction of one customer.
SELECT date, model, version, score, items
FROM predictions WHERE customer_id = $customer
ORDER BY date, model
