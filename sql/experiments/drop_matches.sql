-- The matches of one presentation day, once its conversions are written.
DROP TABLE _matches;
