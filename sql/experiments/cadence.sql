-- An experiment with cadence_days N decides each customer on one night in every N: the nights before
-- the presentation days ($day) whose number (days since 1970-01-01) modulo N is the customer's slot,
-- floor(N x _unit(customer|key|cadence)).
-- The key is the experiment's group when it has one (the group shares one cadence, so a customer is
-- decided by one experiment of the group once in every N nights), else the experiment.
-- A condition over a person `p` of sql/experiments/audience.sql: true unless their slot is another night.
(floor($cadence_days * _unit(p.customer_id || '|' || $cadence_key || '|cadence'))
    <> datediff('day', DATE '1970-01-01', $day::DATE) % $cadence_days) IS NOT TRUE
