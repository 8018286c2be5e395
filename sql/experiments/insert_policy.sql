-- A learned policy's probabilities and expected values of one experiment (from the frame _policy_rows).
INSERT INTO _policy
SELECT customer_id, $experiment, variant, p, value, nullif(warming, '') FROM _policy_rows;
