-- What a rebuild changes: the identity map as a rebuild makes it (_map: the customers' identifiers
-- and the feeds' matched ones, a view: a night that changes no link does not copy it), the rows whose count differs from the stored map's (_map_diff; every
-- column is NOT NULL), and the feed keys whose row differs from the stored one (_changed_keys).
CREATE OR REPLACE TEMP VIEW _map AS
SELECT customer_id, kind, value, dataset, conflict, excluded FROM _resolved
UNION ALL
SELECT customer_id, kind, value, dataset, conflict, excluded FROM _feed_ids;
CREATE OR REPLACE TEMP TABLE _map_diff AS
SELECT customer_id, kind, value, dataset, conflict, excluded
FROM (
    SELECT *, 1 AS side FROM _map
    UNION ALL
    SELECT *, -1 AS side FROM customer_identities
) AS both_maps
GROUP BY ALL HAVING sum(side) <> 0;

-- The feed keys whose row differs from the stored one (new keys included): only their events can
-- point at the wrong customer (set difference: NULL customer_ids compare equal).
CREATE OR REPLACE TEMP TABLE _changed_keys AS
SELECT dataset, key, customer_id, kind, excluded FROM _feed_keys
EXCEPT
SELECT dataset, key, customer_id, kind, excluded FROM customer_identity_keys;

-- The changed keys whose events come back from the feeds (_revived_keys): those no longer excluded
-- (their stored row is excluded: their events were dropped, and none were built for them since), and
-- every key not excluded when no key is stored (a warehouse from before them: whatever was dropped).
CREATE OR REPLACE TEMP TABLE _revived_keys AS
SELECT c.dataset, c.key
FROM _changed_keys AS c
WHERE
    NOT c.excluded
    AND (
        NOT EXISTS (SELECT 1 FROM customer_identity_keys)
        OR EXISTS (
            SELECT 1 FROM customer_identity_keys AS s
            WHERE s.dataset = c.dataset AND s.key = c.key AND s.excluded
        )
    );
