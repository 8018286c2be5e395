-- The customers' identifiers as stored, with the winner of each conflict marked (as
-- resolved_from_table.sql), only those whose value is one of <values> (a query of identifier values
-- as compared: the keys of the feed rows about to be resolved). Every holder of a kept value is kept,
-- so each winner is the one the whole table gives.
CREATE OR REPLACE TEMP TABLE _resolved AS
SELECT *, customer_id = first_value(customer_id) OVER (PARTITION BY kind, value ORDER BY excluded, customer_id) AS winner
FROM customer_identities
WHERE dataset = 'customers' AND value IN ({{values}});
