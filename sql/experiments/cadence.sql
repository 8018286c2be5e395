-- An experiment with cadence_days N decides each customer on one night in every N: the nights whose
-- number (days since 1970-01-01) modulo N is the customer's slot, floor(N x _unit(customer|experiment|cadence)).
DELETE FROM _cand
WHERE
    experiment = $experiment
    AND floor($cadence_days * _unit(customer_id || '|' || experiment || '|cadence'))
    <> datediff('day', DATE '1970-01-01', $day::DATE) % $cadence_days;
