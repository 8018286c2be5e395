-- One rule-based model's shares over its touch set (<touches>, a touch_set.sql): each touch's
-- <weight_of> by its position (pos of n) or age, and share = weight / the conversion's <total_of>
-- (the SQL of its type, pipeline/attribution/types/rule_based.py).
SELECT
    *,
    {{model}}::VARCHAR AS model,
    {{model_type}}::VARCHAR AS model_type,
    weight / ({{total_of}}) AS share
FROM (SELECT *, {{weight_of}} AS weight FROM ({{touches}}) AS touches) AS weighted
