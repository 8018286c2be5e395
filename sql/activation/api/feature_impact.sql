-- A training's mean absolute SHAP value per feature.
SELECT feature, mean_abs_shap, rank
FROM model_feature_impact WHERE model = $model AND version = $version
ORDER BY rank
