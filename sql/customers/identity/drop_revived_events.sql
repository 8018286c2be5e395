-- The stored events of the keys whose events come back from the feeds (_revived_keys) go first, so
-- that none is there twice.
DELETE FROM events AS e USING _revived_keys AS k
WHERE e.source = k.dataset AND e.customer_key = k.key;
