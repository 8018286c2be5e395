-- One version's status (NULL when there is no such version).
SELECT any_value(status) FROM model_trainings WHERE model = $model AND version = $version;
