-- A training's beeswarm points: per sampled customer and feature, the value and its SHAP value.
SELECT customer_id, feature, value, value_text, shap
FROM model_beeswarm WHERE model = $model AND version = $version
ORDER BY feature, customer_id
