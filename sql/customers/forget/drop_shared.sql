-- An identifier value that other customers hold too belongs, as in identity matching, to the
-- smallest customer_id holding it that is not excluded (the smallest of all when every holder is):
-- when that is a customer who stays, the value is theirs and rows keyed by it are kept. Returns
-- how many distinct values were kept.
CREATE OR REPLACE TEMP TABLE _forget_shared AS
SELECT kind, value FROM _forget_holders GROUP BY kind, value
HAVING coalesce(
    min(customer_id) FILTER (WHERE customer_id NOT IN (SELECT customer_id FROM _forget_excluded)),
    min(customer_id)
) NOT IN (SELECT customer_id FROM _forget_ids);
CREATE OR REPLACE TEMP TABLE _forget_values AS
SELECT DISTINCT kind, value FROM _forget_values v
WHERE value IS NOT NULL AND value <> ''
  AND NOT EXISTS (SELECT 1 FROM _forget_shared s WHERE s.kind = v.kind AND s.value = v.value);
SELECT count(DISTINCT value) FROM _forget_shared;
