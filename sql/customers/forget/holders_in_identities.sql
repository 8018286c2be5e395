-- Which customers the identity map says hold each collected identifier value.
INSERT INTO _forget_holders
SELECT DISTINCT i.kind, i.value, i.customer_id
FROM customer_identities i JOIN (SELECT DISTINCT kind, value FROM _forget_values) v USING (kind, value);
