-- The stored map made equal to _map by touching only the rows of _map_diff: every copy of such a
-- row goes, then _map's copies come in.
DELETE FROM customer_identities AS c USING _map_diff AS d
WHERE c.customer_id = d.customer_id AND c.kind = d.kind AND c.value = d.value
  AND c.dataset = d.dataset AND c.conflict = d.conflict AND c.excluded = d.excluded;
INSERT INTO customer_identities
SELECT m.* FROM _map AS m SEMI JOIN _map_diff AS d
    ON m.customer_id = d.customer_id AND m.kind = d.kind AND m.value = d.value
   AND m.dataset = d.dataset AND m.conflict = d.conflict AND m.excluded = d.excluded;
