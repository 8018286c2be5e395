-- One version's status and model file.
SELECT status, model_path FROM model_trainings WHERE model = $model AND version = $version;
