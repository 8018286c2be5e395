-- The matches and counted presentations of one presentation day, once its conversions are written.
DROP TABLE _matches;
DROP TABLE IF EXISTS _counted;
