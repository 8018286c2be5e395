-- The customers' identifiers (from _ids) with conflicts resolved: an identifier of a matched kind
-- that points at several customers is a conflict. It belongs to one of them, the winner: the
-- smallest customer_id among those not excluded (a test account never takes a real customer's
-- identifier), or the smallest of all when every holder is excluded.
CREATE OR REPLACE TEMP TABLE _resolved AS
WITH ids AS (
    SELECT DISTINCT customer_id, kind, value, excluded FROM _ids
), holders AS (
    SELECT kind, value, min(customer_id) AS first_id, max(customer_id) AS last_id,
           coalesce(min(customer_id) FILTER (WHERE NOT excluded), min(customer_id)) AS winner_id
    FROM ids GROUP BY kind, value
)
SELECT i.customer_id, i.kind, i.value, 'customers' AS dataset,
       list_contains($match_on, i.kind) AND h.first_id <> h.last_id AS conflict,
       i.excluded, i.customer_id = h.winner_id AS winner
FROM ids AS i JOIN holders AS h ON h.kind = i.kind AND h.value = i.value;
