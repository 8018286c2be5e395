-- No touchpoint spec: no touches (the columns of touch_source.sql).
SELECT
    0 AS spec,
    NULL::VARCHAR AS touch_id,
    NULL::VARCHAR AS customer_id,
    NULL::TIMESTAMP AS touched_at,
    NULL::DATE AS touch_day,
    NULL::VARCHAR AS channel,
    NULL::VARCHAR AS campaign,
    NULL::VARCHAR AS source,
    NULL::VARCHAR AS medium,
    NULL::VARCHAR AS term,
    NULL::VARCHAR AS content,
    NULL::VARCHAR AS type,
    NULL::VARCHAR AS context,
    NULL::DECIMAL(38, 18) AS value
WHERE FALSE
