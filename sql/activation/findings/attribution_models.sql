-- The attribution models with credited value.
SELECT DISTINCT model FROM attribution_summary ORDER BY model;
