-- Customer records with no identifier in the identity map.
SELECT count(*) AS customers
FROM customers AS c
WHERE NOT EXISTS (
    SELECT 1 FROM customer_identities AS i WHERE i.customer_id = c.customuid AND i.dataset = 'customers'
);
