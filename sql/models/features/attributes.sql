-- The customer data's num_*, txt_* and goal_* (not goal_*_timestamp) columns of _population (latest
-- values: the customers table keeps no history). customuid always matches, so the query works
-- without any such column.
SELECT COLUMNS(lambda c: regexp_matches(c, '^(customuid|num_.*|txt_.*|goal_.*)$') AND NOT suffix(c, '_timestamp'))
FROM customers
WHERE customuid IN (SELECT customer_id FROM _population)
