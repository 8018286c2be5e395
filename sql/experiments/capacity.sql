-- A channel's daily capacity, honoured exactly: of the $day's rows of $experiment given $variant,
-- those beyond the first $capacity by expected value are sent nothing instead. Ties by a hash of
-- (customer, experiment, day): drawn anew each night, so a tie never starves the same customers.
-- drawn_variant keeps $variant: the report analyses the rows by the arm drawn (intent to treat), since
-- the rows cut are the lowest expected values, not a random part of the arm.
UPDATE results SET
    variant = 'no_treatment',
    send_at = NULL,
    reason = printf('capacity: %s takes %d a day, given to higher expected values; %s', $variant, $capacity, reason)
WHERE date = $day AND experiment = $experiment AND customer_id IN (
    SELECT customer_id FROM results
    WHERE date = $day AND experiment = $experiment AND variant = $variant
    QUALIFY row_number() OVER (
        ORDER BY score DESC, _unit(customer_id || '|' || experiment || '|capacity|' || $day::VARCHAR)
    ) > $capacity
);
