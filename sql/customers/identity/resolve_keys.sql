-- _keys(key, customer_id, kind, value, excluded): each distinct customer key of the rows of a
-- feed that match the generated `condition`, and the customer it points at (NULL: anonymous), by
-- the kinds $kinds in their priority order. Filled in: the feed `table`, its `key_column`, and
-- `key_value` (the key as compared). Reads _resolved. A key no customer knows is anonymous, or its
-- own customer_id (the key as compared) when $own_id (`identity.unknown_keys: own_id`).
CREATE OR REPLACE TEMP TABLE _keys AS
WITH distinct_keys AS (
    SELECT DISTINCT {{key_column}} FROM {{table}} WHERE {{key_column}} IS NOT NULL AND {{condition}}
), k AS (  -- each distinct key made comparable once
    SELECT {{key_column}} AS key, {{key_value}} AS value FROM distinct_keys
), hits AS (
    SELECT k.key, k.value, r.customer_id, r.kind, r.excluded, list_position($kinds, r.kind) AS priority
    FROM k JOIN _resolved AS r ON r.value = k.value AND list_contains($kinds, r.kind)
    WHERE r.winner
)
SELECT k.key, coalesce(h.customer_id, CASE WHEN $own_id THEN k.value END) AS customer_id,
       coalesce(h.kind, $kinds[1]) AS kind, k.value,
       coalesce(h.excluded, FALSE) AS excluded
FROM k LEFT JOIN (
    SELECT key, arg_min(customer_id, priority) AS customer_id, arg_min(kind, priority) AS kind,
           arg_min(excluded, priority) AS excluded
    FROM hits GROUP BY key
) AS h USING (key);
