-- The feature impact of a model's latest training that has one.
SELECT feature, mean_abs_shap
FROM model_feature_impact
WHERE model = $model AND version = (SELECT max(version) FROM model_feature_impact WHERE model = $model)
ORDER BY rank;
