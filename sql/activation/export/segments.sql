-- One night's score segments: per scoring model (response, churn, clv: every model but a recommender,
-- whose rows hold items) and customer, the quintile of the model's night of scores the customer is in
-- (5: the highest fifth; ties ordered by customer_id).
SELECT
    date,
    customer_id,
    model,
    version,
    score,
    ntile(5) OVER (PARTITION BY model ORDER BY score, customer_id) AS segment
FROM predictions WHERE date = $day AND items IS NULL
ORDER BY model, customer_id
