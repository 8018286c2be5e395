-- Events of the days $a..$b whose customer_id is not a known (and not excluded) customer.
SELECT count(*) AS events
FROM events AS e
WHERE e._partition_date BETWEEN $a AND $b AND e.customer_id IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM customer_identities AS i
      WHERE i.customer_id = e.customer_id AND i.dataset = 'customers' AND NOT i.excluded
  );
