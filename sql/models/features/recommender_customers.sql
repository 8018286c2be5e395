-- Every customer of the recommender's candidates (_candidates) in customer_id order: their candidate
-- rows and how many of them they took in the label window (_took, one row per customer and item).
SELECT
    c.customer_id,
    count(*) AS candidate_rows,
    count(t.customer_id) AS positives
FROM _candidates AS c
LEFT JOIN _took AS t ON c.customer_id = t.customer_id AND c.item = t.item
GROUP BY c.customer_id
ORDER BY c.customer_id
