-- The keys of _keys that point at a customer, and those that are anonymous.
SELECT count(*) FILTER (WHERE customer_id IS NOT NULL) AS matched,
       count(*) FILTER (WHERE customer_id IS NULL) AS anonymous
FROM _keys;
