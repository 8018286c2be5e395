-- A feature's dependence points: its value and SHAP value, with a secondary feature's value (the
-- one asked for, that customer's value of it among the version's dependence points, which hold every
-- feature of the same customers; else the one stored with the point).
SELECT
    d.customer_id,
    d.value,
    d.shap,
    coalesce($secondary, d.secondary_feature) AS secondary_feature,
    CASE WHEN $secondary IS NULL THEN d.secondary_value ELSE s.value END AS secondary_value
FROM model_dependence AS d
LEFT JOIN model_dependence AS s
    ON s.model = d.model AND s.version = d.version AND s.customer_id = d.customer_id AND s.feature = $secondary
WHERE d.model = $model AND d.version = $version AND d.feature = $feature
ORDER BY d.value, d.customer_id
