-- The stored keys follow _feed_keys: the rows that differ go, the changed and new ones come in.
DELETE FROM customer_identity_keys AS o
WHERE NOT EXISTS (
    SELECT 1 FROM _feed_keys AS n
    WHERE n.dataset = o.dataset AND n.key = o.key AND n.customer_id IS NOT DISTINCT FROM o.customer_id
      AND n.kind = o.kind AND n.excluded = o.excluded
);
INSERT INTO customer_identity_keys SELECT dataset, key, customer_id, kind, excluded FROM _changed_keys;
