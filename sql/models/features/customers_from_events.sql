-- Feeds without customer data (identity.unknown_keys: own_id): the customers are the events' own
-- keys, each first seen on the day of its first event. A stand-in on this connection only, with the
-- columns the population reads; it has no attributes.
CREATE OR REPLACE TEMP TABLE customers AS
SELECT customer_id AS customuid, min(_partition_date) AS _first_seen_at
FROM events
WHERE customer_id IS NOT NULL
GROUP BY customer_id;
