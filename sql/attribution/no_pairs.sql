-- No data-driven model: no pairs (the columns of pair_model.sql over a touch set, <touches>).
SELECT
    *,
    NULL::VARCHAR AS model,
    NULL::VARCHAR AS model_type
FROM ({{touches}}) AS touches
WHERE FALSE
