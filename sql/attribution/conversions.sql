-- The conversions of the days attributed (one day, or a range of rule-based models): <sources> is one conversion_source.sql per conversion source of the
-- config (or no_conversions.sql), joined by UNION ALL.
CREATE OR REPLACE TEMP TABLE _att_conversions AS
SELECT conversion, conversion_id, customer_id, converted_at, day, value
FROM ({{sources}}) AS sources;
