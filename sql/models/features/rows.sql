-- The rows of the feature matrix: one per customer of _population, in customer_id order (row from 0).
CREATE OR REPLACE TEMP TABLE _rows AS
SELECT customer_id, days_since_first_seen, (row_number() OVER (ORDER BY customer_id) - 1)::INTEGER AS row
FROM _population
