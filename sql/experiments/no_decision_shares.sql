-- No recorded decisions (a warehouse without `results`): every customer's side drawn with the
-- experiment's share.
SELECT
    NULL::DATE AS date,
    NULL::VARCHAR AS customer_id,
    NULL::VARCHAR AS experiment,
    NULL::VARCHAR AS held_out_variant,
    NULL::DOUBLE AS control_share
WHERE FALSE
