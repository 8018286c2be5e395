-- Customers (not excluded), identifiers, conflicting identifiers (distinct (kind, value) rows) and
-- excluded customers of the map.
SELECT count(DISTINCT customer_id) FILTER (WHERE dataset = 'customers' AND NOT excluded) AS customers,
       count(*) AS identifiers,
       count(DISTINCT (kind, value)) FILTER (WHERE conflict) AS conflicts,  -- noqa: LT06
       count(DISTINCT customer_id) FILTER (WHERE excluded) AS excluded
FROM customer_identities;
