-- Events of the days $a..$b whose customer_id is not a known (and not excluded) customer of the map:
-- a customer record's, or a feed key that is its own customer (identity.unknown_keys: own_id).
SELECT count(*) AS events
FROM events AS e
WHERE e._partition_date BETWEEN $a AND $b AND e.customer_id IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM customer_identities AS i
      WHERE i.customer_id = e.customer_id AND NOT i.excluded
  );
