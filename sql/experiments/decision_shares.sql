-- Each decision's held-out draw and the control share its side was drawn with (results.control_share;
-- NULL for a row decided before the column): the report's sample-ratio check (srm_customers.sql).
SELECT date, customer_id, experiment, held_out_variant, control_share
FROM results
