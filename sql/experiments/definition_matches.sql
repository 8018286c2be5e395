-- The rows of one transaction table that match every rule of a defined conversion (the rules
-- compiled over `x`, their values bound), from the pre-period start $pre_start (the CUPED covariate)
-- to the end of the window of the presentations of $first, with the customer resolved by identity
-- matching (through `events`). The value is the value field of the row, or the fixed value of the
-- definition; a missing value counts as 0, and so does a Float beyond what DECIMAL(38,18) holds (|value|
-- of 1e20 or more, or not finite), as the events and attribution read it (a fixed value is under 1e20).
-- $metric and $pre_of: what the match counts for (_matches).
INSERT INTO _matches
SELECT e.customer_id, $experiment, $source, CAST(x.{{time_field}} AS TIMESTAMP),
       coalesce(TRY_CAST({{value}} AS DECIMAL(38, 18)), 0), $keep_all, $metric, $pre_of
FROM {{tx_table}} AS x
INNER JOIN events AS e ON e.event_id = $ds || ':' || x._load_id || ':' || x._row_number
WHERE x._partition_date BETWEEN $pre_first AND $last
  AND CAST(x.{{time_field}} AS TIMESTAMP) >= $pre_start AND CAST(x.{{time_field}} AS TIMESTAMP) < $end
  AND e.customer_id IS NOT NULL AND {{rules}};
