-- Events of the days $a..$b whose customer_id is not a known (and not excluded) customer of the map:
-- a customer record's, or a feed key that is its own customer (identity.unknown_keys: own_id).
-- The known customers once each (a customer has several identifiers): the events are looked up in
-- the distinct ids, not in every row of the map (customer_id is never NULL there, so NOT IN is exact).
SELECT count(*) AS events
FROM events AS e
WHERE e._partition_date BETWEEN $a AND $b AND e.customer_id IS NOT NULL
  AND e.customer_id NOT IN (
      SELECT DISTINCT i.customer_id FROM customer_identities AS i WHERE NOT i.excluded
  );
