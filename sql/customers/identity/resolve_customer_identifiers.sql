-- The customers' identifiers (from _ids) with conflicts resolved: an identifier of a matched kind
-- that points at several customers is a conflict. It belongs to one of them, the winner: the
-- smallest customer_id among those not excluded (a test account never takes a real customer's
-- identifier), or the smallest of all when every holder is excluded.
CREATE OR REPLACE TEMP TABLE _resolved AS
SELECT customer_id, kind, value, 'customers' AS dataset,
       list_contains($match_on, kind)
           AND min(customer_id) OVER w <> max(customer_id) OVER w AS conflict,
       excluded,
       customer_id = first_value(customer_id) OVER (w ORDER BY excluded, customer_id) AS winner
FROM (SELECT DISTINCT customer_id, kind, value, excluded FROM _ids) AS ids
WINDOW w AS (PARTITION BY kind, value);
