-- The qualifying events of a model's label rules in [$start, $end): {{rules}} is the condition the
-- rules compile to (pipeline/models/labels.py, in the rule language of pipeline/core/rules.py; every
-- value a bound parameter). value: the event's value; item: the recommender's item; weight: the
-- largest weight of the rules the event matches ({{weight}}, pipeline/models/labels.py).
CREATE OR REPLACE TEMP TABLE _qualifying AS
SELECT e.customer_id, e.occurred_at, CAST(e.value AS DOUBLE) AS value,
       json_extract_string(e.properties, $item_field::VARCHAR) AS item, {{weight}} AS weight
FROM events e
WHERE e.customer_id IS NOT NULL
  AND e.occurred_at >= $start::TIMESTAMP AND e.occurred_at < $end::TIMESTAMP
  AND e._partition_date >= $start::DATE AND e._partition_date < $end::DATE
  AND ({{rules}});
