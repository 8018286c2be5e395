-- The label from a customer list CSV (customer_id, label 1/0) for the customers of _population.
SELECT p.customer_id, l.label::INTEGER AS label
FROM _population p
JOIN read_csv($path, header = TRUE, columns = {'customer_id': 'VARCHAR', 'label': 'INTEGER'}) l
  ON l.customer_id = p.customer_id
ORDER BY p.customer_id
