-- The customers to forget, and the kinds of identifier that named them.
INSERT INTO _forget_ids SELECT DISTINCT customer_id FROM _forget_found WHERE customer_id IS NOT NULL;
SELECT coalesce(string_agg(DISTINCT given, ',' ORDER BY given), '') FROM _forget_found;
