-- The label of a goal ({{goal}}: a goal_* column of the customer data, {{stamp}}: its
-- goal_*_timestamp) for the customers of _population: 1 when the goal was reached in the label
-- window [$start, $end), else 0. A customer who reached it before the window (or at an unknown
-- time) is left out: they converted already.
SELECT
    p.customer_id,
    CASE
        WHEN c.{{goal}} AND c.{{stamp}} >= $start::TIMESTAMP AND c.{{stamp}} < $end::TIMESTAMP THEN 1
        ELSE 0
    END AS label
FROM _population AS p
INNER JOIN customers AS c ON p.customer_id = c.customuid
WHERE NOT (coalesce(c.{{goal}}, FALSE) AND (c.{{stamp}} IS NULL OR c.{{stamp}} < $start::TIMESTAMP))
ORDER BY p.customer_id
