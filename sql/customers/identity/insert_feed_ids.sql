-- The identifiers of a feed ($ds) that point at a customer, as rows of the identity map.
INSERT INTO _feed_ids
SELECT customer_id, kind, value, $ds, FALSE, excluded FROM _keys WHERE customer_id IS NOT NULL;
