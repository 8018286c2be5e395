-- The customers a decision on $day may go to: known before the day, not excluded (test accounts).
CREATE OR REPLACE TEMP TABLE _people AS
SELECT DISTINCT customuid AS customer_id FROM customers
WHERE _first_seen_at < $day
  AND customuid NOT IN (SELECT customer_id FROM customer_identities WHERE excluded);
