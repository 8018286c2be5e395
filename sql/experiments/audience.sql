-- The audience of one experiment on $day, once for all its variants (sql/experiments/candidates.sql):
-- the people who pass every audience rule (`rules`, TRUE without any, their values bound) and, with a
-- cadence ($cadence_days N; NULL: none), whose night it is.
-- An experiment with cadence_days N decides each customer on one night in every N: the nights before
-- the presentation days ($day) whose number (days since 1970-01-01) modulo N is the customer's slot,
-- floor(N x _unit(customer|key|cadence)). The key ($cadence_key) is the experiment's group when it has
-- one (the group shares one cadence, so a customer is decided by one experiment of the group once in
-- every N nights), else the experiment.
CREATE OR REPLACE TEMP TABLE _audience AS
SELECT p.customer_id FROM _people AS p
WHERE
    {{rules}}
    AND (
        $cadence_days IS NULL
        OR (
            floor($cadence_days * _unit(p.customer_id || '|' || $cadence_key || '|cadence'))
            <> datediff('day', DATE '1970-01-01', $day::DATE) % $cadence_days
        ) IS NOT TRUE
    );
