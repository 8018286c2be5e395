-- The customers' identifiers (from _ids) with conflicts resolved: an identifier of a matched kind
-- that points at several customers is a conflict, and belongs to the smallest customer_id (the
-- winner); the other customers keep it as a non-winning row.
CREATE OR REPLACE TEMP TABLE _resolved AS
SELECT customer_id, kind, value, 'customers' AS dataset,
       list_contains($match_on, kind)
           AND min(customer_id) OVER w <> max(customer_id) OVER w AS conflict,
       excluded,
       customer_id = min(customer_id) OVER w AS winner
FROM (SELECT DISTINCT customer_id, kind, value, excluded FROM _ids)
WINDOW w AS (PARTITION BY kind, value);
