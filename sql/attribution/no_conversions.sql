-- No conversion source: no conversions (the columns of conversion_source.sql).
SELECT
    NULL::VARCHAR AS conversion,
    NULL::VARCHAR AS conversion_id,
    NULL::VARCHAR AS customer_id,
    NULL::TIMESTAMP AS converted_at,
    NULL::DATE AS day,
    NULL::DOUBLE AS value
WHERE FALSE
