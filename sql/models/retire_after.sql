-- Promote $version: it is FINISHED again, and FINISHED versions after it are RETIRED (so it is in use).
UPDATE model_trainings SET status = 'RETIRED', reason = $reason
WHERE model = $model AND status = 'FINISHED' AND version > $version;
UPDATE model_trainings SET status = 'FINISHED', reason = NULL WHERE model = $model AND version = $version;
