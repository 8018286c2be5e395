-- The training rows of the kept customers' candidates (_candidates) in (customer_id, item) order,
-- label 1 and the response's weight where the customer took the item in the label window (_took),
-- else 0 and 1.
SELECT
    c.*,
    (t.customer_id IS NOT NULL)::INTEGER AS label,
    coalesce(t.weight::DOUBLE, 1.0) AS weight
FROM _candidates AS c
LEFT JOIN _took AS t ON c.customer_id = t.customer_id AND c.item = t.item
ORDER BY c.customer_id, c.item
