-- The identity map replaced whole: the customers' identifiers and the feeds' matched ones.
DELETE FROM customer_identities;
INSERT INTO customer_identities
SELECT customer_id, kind, value, dataset, conflict, excluded FROM _resolved
UNION ALL
SELECT * FROM _feed_ids;
