-- The latest FINISHED version of a model on or before a day.
SELECT max(version) FROM model_trainings WHERE model = $model AND status = 'FINISHED' AND version <= $day;
