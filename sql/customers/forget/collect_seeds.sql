-- The forgotten customers' own ids (a customer_id is its customuid) and the identifier asked for.
INSERT INTO _forget_values
SELECT 'customuid', _nj_norm(customer_id, $cs) FROM _forget_ids
UNION ALL
SELECT kind, value FROM _forget_seeds;
