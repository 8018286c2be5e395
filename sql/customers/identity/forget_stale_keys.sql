-- A feed's ($ds) keys that events were just written for with another customer or kind than the
-- stored one (the events built after a policy change, before the map's rebuild) are forgotten
-- from customer_identity_keys: the next rebuild takes them as new and re-points all their events.
DELETE FROM customer_identity_keys AS s USING _keys AS k
WHERE s.dataset = $ds AND s.key = CAST(k.key AS VARCHAR)
  AND (s.customer_id IS DISTINCT FROM k.customer_id OR s.kind <> k.kind OR s.excluded <> k.excluded);
