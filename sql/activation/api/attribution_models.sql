-- The attribution models with credits, their type and the conversions they credit.
SELECT model, any_value(model_type) AS model_type, count(DISTINCT conversion_id) AS conversions
FROM attribution_credits GROUP BY model ORDER BY model
