-- A recommender's nightly output from its scored candidates (_scored: customer_id, item, model_score):
-- per customer the k best items, best first (ties: item name), and the best item's score. The k best
-- are picked by max_by over (score, the item's place in descending name order), not by sorting each
-- customer's whole list.
WITH names AS (
    SELECT item, row_number() OVER (ORDER BY item DESC) AS later_first
    FROM (SELECT DISTINCT item FROM _scored) AS i
)
SELECT customer_id, max(model_score) AS score,
       max_by(item, {s: model_score, n: later_first}, $k::INTEGER) AS items
FROM _scored INNER JOIN names USING (item)
GROUP BY customer_id
ORDER BY customer_id
