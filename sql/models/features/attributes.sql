-- The customer data's num_*, txt_* and goal_* (not goal_*_timestamp) columns of _population (latest
-- values: the customers table keeps no history). A goal with a goal_*_timestamp column is read as of
-- the cut-off: {{as_of}} (pipeline/models/features.py) replaces each such goal_x by FALSE where it was
-- reached at or after the cut-off (not reached yet then), or is empty when there is none. customuid
-- always matches, so the query works without any such column.
SELECT COLUMNS(lambda c: regexp_matches(c, '^(customuid|num_.*|txt_.*|goal_.*)$') AND NOT suffix(c, '_timestamp'))
FROM (SELECT * {{as_of}} FROM customers) AS customers
WHERE customuid IN (SELECT customer_id FROM _population)
