-- One data-driven model's pairs: its touch set (<touches>, a touch_set.sql) with its name and type.
SELECT
    *,
    {{model}}::VARCHAR AS model,
    {{model_type}}::VARCHAR AS model_type
FROM ({{touches}}) AS touches
