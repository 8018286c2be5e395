-- Uploaded conversions (customer_id, experiment, conversion_datetime, conversion_value) in the window,
-- the customer resolved by identity matching (through `events`).
INSERT INTO _matches
SELECT e.customer_id, CAST(x.experiment AS VARCHAR), 'uploaded', CAST(x.conversion_datetime AS TIMESTAMP),
       coalesce(CAST(x.conversion_value AS DECIMAL(18,4)), 0), FALSE
FROM {{tx_table}} AS x
INNER JOIN events AS e ON e.event_id = $ds || ':' || x._load_id || ':' || x._row_number
WHERE x._partition_date BETWEEN $first AND $last
  AND CAST(x.conversion_datetime AS TIMESTAMP) >= $start AND CAST(x.conversion_datetime AS TIMESTAMP) < $end
  AND e.customer_id IS NOT NULL;
