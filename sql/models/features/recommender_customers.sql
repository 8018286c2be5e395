-- Every customer of the recommender's candidates in customer_id order, before they are built: each
-- customer of _population has a candidate row per item of the history (_history), and as many
-- positives as items of the history they took in the label window (_took, one row per customer and
-- item); no item, no candidates.
WITH items AS (
    SELECT DISTINCT h.item FROM _history AS h WHERE h.item IS NOT NULL
),

took AS (
    SELECT
        t.customer_id,
        count(*) AS positives
    FROM _took AS t
    WHERE t.item IN (SELECT i.item FROM items AS i)
    GROUP BY t.customer_id
)

SELECT
    p.customer_id,
    count(*) * (SELECT count(*) FROM items) AS candidate_rows,
    count(*) * any_value(coalesce(k.positives, 0)) AS positives
FROM _population AS p
LEFT JOIN took AS k ON p.customer_id = k.customer_id
GROUP BY p.customer_id
HAVING candidate_rows > 0
ORDER BY p.customer_id
