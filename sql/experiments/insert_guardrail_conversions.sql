-- The counted presentations of a guardrail metric (_counted, write_conversions.sql).
INSERT INTO guardrail_conversions BY NAME
SELECT * FROM _counted;
