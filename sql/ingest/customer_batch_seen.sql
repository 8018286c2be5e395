-- The customers of a batch of customer files (`_typed`, its good rows) already in the data set, with
-- the day each was first seen.
CREATE OR REPLACE TEMP TABLE _seen AS
SELECT
    customuid,
    _first_seen_at
FROM customers
WHERE customuid IN (SELECT customuid FROM _typed WHERE _reason IS NULL);
