-- Whether a model has a training of a version.
SELECT model FROM model_trainings WHERE model = $model AND version = $version LIMIT 1
