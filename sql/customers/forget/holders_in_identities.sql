-- Which customers the identity map says hold each collected identifier value, and which customers
-- it says are excluded (an identifier they share with a customer who is not goes to that customer).
INSERT INTO _forget_holders
SELECT DISTINCT i.kind, i.value, i.customer_id
FROM customer_identities i JOIN (SELECT DISTINCT kind, value FROM _forget_values) v USING (kind, value);

INSERT INTO _forget_excluded SELECT DISTINCT customer_id FROM customer_identities WHERE excluded;
