-- Start (or restart) a version's row with a status; a re-run replaces the version's row.
DELETE FROM model_trainings WHERE model = $model AND version = $version;
INSERT INTO model_trainings (model, version, type, status, started_at)
VALUES ($model, $version, $type, $status, now()::TIMESTAMP);
