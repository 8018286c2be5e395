-- The customers the identity map gives the identifier asked for (every customer that holds it).
INSERT INTO _forget_found
SELECT DISTINCT i.customer_id, s.given FROM customer_identities i JOIN _forget_seeds s USING (kind, value);
