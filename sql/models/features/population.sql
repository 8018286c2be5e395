-- The customers a model sees at a cut-off: first seen before it and not dropped by an identity
-- exclusion filter ($only: one customer, or NULL for all); {{segment}}: the training population's
-- rules over the customer data (pipeline/models/features.py; TRUE for everyone), values bound; its goals
-- read as of the cut-off ({{as_of}}: as in attributes.sql), so a rule never sees a goal reached after it.
CREATE OR REPLACE TEMP TABLE _population AS
SELECT c.customuid AS customer_id, date_diff('day', c._first_seen_at, $cutoff::DATE)::DOUBLE AS days_since_first_seen
FROM (SELECT * {{as_of}} FROM customers) AS c
WHERE c._first_seen_at < $cutoff::DATE
  AND ($only::VARCHAR IS NULL OR c.customuid = $only::VARCHAR)
  AND NOT EXISTS (SELECT 1 FROM customer_identities i WHERE i.customer_id = c.customuid AND i.excluded)
  AND ({{segment}});
