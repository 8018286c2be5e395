-- Every identifier value the identity map gives the forgotten customers (from their records and
-- from the feeds whose keys point at them).
INSERT INTO _forget_values
SELECT kind, value FROM customer_identities WHERE customer_id IN (SELECT customer_id FROM _forget_ids);
