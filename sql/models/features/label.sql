-- The label of each customer of _population: 1 when they have a qualifying event (_qualifying,
-- built for the label window), else 0; $inverted (churn) inverts it (no qualifying activity = churned).
SELECT p.customer_id,
       CASE WHEN EXISTS (SELECT 1 FROM _qualifying q WHERE q.customer_id = p.customer_id)
            THEN 1 - $inverted::INTEGER ELSE $inverted::INTEGER END AS label
FROM _population p
ORDER BY p.customer_id
