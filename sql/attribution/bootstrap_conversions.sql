-- The day's conversions (their number cix) numbered for the bootstrap (i, in a fixed order) with
-- their conversion source's number (stratum: a replicate redraws each source's conversions) and value.
CREATE OR REPLACE TEMP TABLE _att_boot AS
SELECT
    cix, conversion, conversion_id, value,
    (row_number() OVER (ORDER BY conversion, conversion_id) - 1)::INTEGER AS i,
    (dense_rank() OVER (ORDER BY conversion) - 1)::INTEGER AS stratum
FROM _att_conversions;
