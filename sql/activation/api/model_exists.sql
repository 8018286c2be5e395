-- Whether a model has a training in the snapshot.
SELECT model FROM model_trainings WHERE model = $model LIMIT 1
