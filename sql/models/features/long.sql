-- The long features (_long: row of the customer in _rows, feature, value) start with the event features of _activity;
-- attr_values.sql adds the attr_* indicators.
CREATE OR REPLACE TEMP TABLE _long AS SELECT * FROM _activity;
DROP TABLE _activity;
