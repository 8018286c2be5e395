-- A feed's rows of the days $a..$b as events (the feed's name, event type, type map, currency and
-- context bound). Filled in: the feed `table`, its `customer_field` and `time_field`, and the
-- fragments generated from its event mapping: `event_type`, `event_value`, `event_float_value`, `utm` (the five utm_*
-- columns), `channel_value` and `properties_value`; `days`: TRUE, or only the days whose events were built
-- (pipeline/customers/feed_events.py).
INSERT INTO events BY NAME
SELECT $ds || ':' || t._load_id || ':' || t._row_number AS event_id,
       k.customer_id, CAST(t.{{customer_field}} AS VARCHAR) AS customer_key,
       k.kind AS customer_key_kind, {{event_type}} AS type, $feed_context AS context,
       CAST(t.{{time_field}} AS TIMESTAMP) AS occurred_at,
       {{event_value}} AS value, {{event_float_value}} AS float_value,
       CASE WHEN {{event_value}} IS NOT NULL THEN $currency END AS currency,
       {{utm}}, {{channel_value}} AS channel,
       {{properties_value}} AS properties,
       $ds AS source, t._load_id AS load_id, t._partition_date
FROM {{table}} AS t JOIN _keys AS k ON k.key = t.{{customer_field}}
WHERE t._partition_date BETWEEN $a AND $b AND NOT k.excluded AND {{days}};
