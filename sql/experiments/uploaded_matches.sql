-- Uploaded conversions (customer_id, experiment, conversion_datetime, conversion_value) from the
-- pre-period start to the end of the window, the customer resolved by identity matching (through
-- `events`). They count for the primary metric, and are its own covariate unless the experiment is
-- one of $with_covariate (it has a covariate definition). A missing value counts as 0, and so does a
-- Float beyond what DECIMAL(38,18) holds (|value| of 1e20 or more, or not finite), as the events read it.
INSERT INTO _matches
SELECT e.customer_id, CAST(x.experiment AS VARCHAR), 'uploaded', CAST(x.conversion_datetime AS TIMESTAMP),
       coalesce(TRY_CAST(x.conversion_value AS DECIMAL(38,18)), 0), FALSE, 'primary',
       CASE WHEN list_contains($with_covariate, CAST(x.experiment AS VARCHAR)) THEN NULL ELSE 'primary' END
FROM {{tx_table}} AS x
INNER JOIN events AS e ON e.event_id = $ds || ':' || x._load_id || ':' || x._row_number
WHERE x._partition_date BETWEEN $pre_first AND $last
  AND CAST(x.conversion_datetime AS TIMESTAMP) >= $pre_start AND CAST(x.conversion_datetime AS TIMESTAMP) < $end
  AND e.customer_id IS NOT NULL;
