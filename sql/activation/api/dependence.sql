-- A feature's dependence points: its value and SHAP value, with a secondary feature's value (the
-- one asked for, read from the beeswarm; else the one stored with the point).
SELECT
    d.customer_id,
    d.value,
    d.shap,
    coalesce($secondary, d.secondary_feature) AS secondary_feature,
    CASE WHEN $secondary IS NULL THEN d.secondary_value ELSE b.value END AS secondary_value
FROM model_dependence AS d
LEFT JOIN model_beeswarm AS b
    ON b.model = d.model AND b.version = d.version AND b.customer_id = d.customer_id AND b.feature = $secondary
WHERE d.model = $model AND d.version = $version AND d.feature = $feature
ORDER BY d.value, d.customer_id
