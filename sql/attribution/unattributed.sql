-- A conversion that no touch of a model explains keeps its whole value, as '(unattributed)' (on the
-- conversion's day; its credits may be per touch in <target> or per channel in _att_channel_credits).
INSERT INTO {{target}}
SELECT c.day, c.conversion, c.conversion_id, c.customer_id, m.model, m.model_type, NULL, $unattributed, NULL,
       NULL, c.converted_at, c.value AS conversion_value, 1.0 AS credit_share, c.value AS credited_value
FROM _att_conversions c CROSS JOIN _att_models m
WHERE NOT EXISTS (SELECT 1 FROM {{target}} a WHERE a._partition_date = c.day AND a.conversion = c.conversion
                  AND a.conversion_id = c.conversion_id AND a.model = m.model)
  AND NOT EXISTS (SELECT 1 FROM _att_channel_credits a WHERE a.cix = c.cix AND a.model = m.model);
