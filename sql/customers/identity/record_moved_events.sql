-- The events of the keys in `keys` that go to another customer or are dropped (their key is
-- excluded), read before they change: their day with the customer on each side, as rebuild $rebuild.
INSERT INTO identity_event_changes
SELECT DISTINCT $rebuild::BIGINT, day, customer_id
FROM (
    SELECT e._partition_date AS day, unnest([e.customer_id, k.customer_id]) AS customer_id
    FROM events AS e
    INNER JOIN {{keys}} AS k ON e.source = k.dataset AND e.customer_key = k.key
    WHERE e.customer_id IS DISTINCT FROM k.customer_id OR k.excluded
) AS moved
WHERE customer_id IS NOT NULL;
