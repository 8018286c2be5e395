-- The customers' identifiers as stored, with the winner of each conflict marked (for lookups):
-- the same rule as resolve_customer_identifiers.sql.
CREATE OR REPLACE TEMP TABLE _resolved AS
SELECT *, customer_id = first_value(customer_id) OVER (PARTITION BY kind, value ORDER BY excluded, customer_id) AS winner
FROM customer_identities WHERE dataset = 'customers';
