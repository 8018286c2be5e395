-- Delete the forgotten customers' rows of one customer-keyed table. `table` is a quoted identifier;
-- `condition` is built from the _nj_* helpers of prepare.sql over quoted column names:
--   a row owned by a forgotten customer (a customer_id column holds their id), or
--   a row owned by no customer (its customer_id columns are NULL, or it has none) that holds one of
--   their identifier values in a column keyed by that kind of identifier.
-- Rows owned by another customer are never deleted. Values are bound, never interpolated.
DELETE FROM {{table}} WHERE {{condition}};
