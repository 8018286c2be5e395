-- The model versions with a model file (a training that finished, even if later rejected or retired).
SELECT model, version FROM model_trainings WHERE model_path IS NOT NULL ORDER BY model, version
