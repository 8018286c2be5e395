-- The version a new one is measured against: the latest FINISHED version before it.
SELECT max(version) FROM model_trainings WHERE model = $model AND status = 'FINISHED' AND version < $version;
