-- The events brought back from the feeds (those of _revived_keys, written): their day and customer,
-- as rebuild $rebuild.
INSERT INTO identity_event_changes
SELECT DISTINCT $rebuild::BIGINT, e._partition_date, e.customer_id
FROM events AS e
INNER JOIN _revived_keys AS k ON e.source = k.dataset AND e.customer_key = k.key
WHERE e.customer_id IS NOT NULL;
