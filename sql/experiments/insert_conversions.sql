-- The counted presentations of the primary metric (_counted, write_conversions.sql) into `conversions`.
INSERT INTO conversions BY NAME
SELECT * EXCLUDE (metric) FROM _counted;
