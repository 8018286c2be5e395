-- No recorded draws (a warehouse without `results`): the report's control is the whole control group.
SELECT
    NULL::DATE AS date,
    NULL::VARCHAR AS customer_id,
    NULL::VARCHAR AS experiment,
    NULL::VARCHAR AS held_out_variant
WHERE FALSE
