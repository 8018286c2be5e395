-- The customers with a row of a transaction table before $day that matches a rule: the dataset
-- is a bound parameter, the condition the rule compiled over `x` (its values bound).
-- A row's event has the row's _partition_date (sql/customers/events/insert_feed.sql copies it, and
-- neither is ever changed): `e._partition_date < $day` selects no other event, it lets the scan of
-- `events` skip the row groups of later days instead of joining every event.
SELECT e.customer_id
FROM {{tx_table}} AS x
INNER JOIN events AS e ON e.event_id = {{dataset}} || ':' || x._load_id || ':' || x._row_number
WHERE x._partition_date < $day AND e._partition_date < $day AND e.customer_id IS NOT NULL
  AND {{condition}}
