-- The customers' identifiers as stored, with the winner of each conflict marked (for lookups).
CREATE OR REPLACE TEMP TABLE _resolved AS
SELECT *, customer_id = min(customer_id) OVER (PARTITION BY kind, value) AS winner
FROM customer_identities WHERE dataset = 'customers';
