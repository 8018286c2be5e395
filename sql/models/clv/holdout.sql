-- The purchase days of each customer in the holdout window (_qualifying built for it): what BG/NBD's
-- expected purchases are measured against.
SELECT customer_id, count(DISTINCT CAST(occurred_at AS DATE))::DOUBLE AS purchases
FROM _qualifying
GROUP BY customer_id
