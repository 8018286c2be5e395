-- The long features (_long: row of the customer in _rows, fid, value) start with the event features of _activity
-- (the table renamed, not copied); attr_values.sql adds the attr_* indicators.
DROP TABLE IF EXISTS _long;
ALTER TABLE _activity RENAME TO _long;
