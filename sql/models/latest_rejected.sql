-- The latest REJECTED version of a model on or before a day (the retraining cadence counts from it).
SELECT max(version) FROM model_trainings WHERE model = $model AND status = 'REJECTED' AND version <= $day;
