-- Events follow the identity map: every stored event of a feed whose key is in `keys` (every key of
-- the feeds, or the changed ones) points at the customer its key points at now (a customer file
-- that arrived later turns anonymous events into that customer's).
UPDATE events e SET customer_id = k.customer_id, customer_key_kind = k.kind
FROM {{keys}} k
WHERE e.source = k.dataset AND e.customer_key = k.key
  AND (e.customer_id IS DISTINCT FROM k.customer_id OR e.customer_key_kind IS DISTINCT FROM k.kind);
