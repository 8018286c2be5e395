-- The conversions of the days attributed (one day, or a range of rule-based models): <sources> is one conversion_source.sql per conversion source of the
-- config (or no_conversions.sql), joined by UNION ALL. cix numbers the conversions: the work tables
-- group and rank by it rather than by (conversion, conversion_id).
CREATE OR REPLACE TEMP TABLE _att_conversions AS
SELECT row_number() OVER ()::INTEGER AS cix, conversion, conversion_id, customer_id, converted_at, day, value
FROM ({{sources}}) AS sources;
