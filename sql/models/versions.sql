-- Every version of a model, newest first.
SELECT version, status, metrics, coalesce(reason, error) AS why
FROM model_trainings WHERE model = $model
ORDER BY version DESC;
