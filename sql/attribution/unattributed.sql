-- A conversion that no touch of a model explains keeps its whole value, as '(unattributed)'.
INSERT INTO _att_credits
SELECT c.conversion, c.conversion_id, c.customer_id, m.model, m.model_type, NULL, $unattributed, NULL,
       NULL, c.converted_at, c.value, 1.0, c.value
FROM _att_conversions c CROSS JOIN _att_models m
WHERE NOT EXISTS (SELECT 1 FROM _att_credits a WHERE a.conversion = c.conversion
                  AND a.conversion_id = c.conversion_id AND a.model = m.model);
