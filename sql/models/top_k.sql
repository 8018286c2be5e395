-- A recommender's nightly output from its scored candidates (_scored: customer_id, item, model_score):
-- per customer the k best items, best first (ties: item name), and the best item's score.
SELECT customer_id, max(model_score) AS score, list(item ORDER BY model_score DESC, item)[1:$k::INTEGER] AS items
FROM _scored
GROUP BY customer_id
ORDER BY customer_id
