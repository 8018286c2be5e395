-- The people eligible for one variant of one experiment: the rules are the conjunction of the
-- experiment's audience rules and the variant's rules (TRUE without any), their values bound.
INSERT INTO _cand
SELECT p.customer_id, $experiment, $variant FROM _people AS p
WHERE {{rules}};
