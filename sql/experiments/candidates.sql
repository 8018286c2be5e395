-- The people eligible for one variant of one experiment: of the experiment's audience (_audience:
-- sql/experiments/audience.sql), those who pass the variant's rules (TRUE without any), their values bound.
INSERT INTO _cand
SELECT p.customer_id, $experiment, $variant FROM _audience AS p
WHERE {{rules}};
