-- Start (or restart) a version's row with a status; a re-run replaces the version's row, except a
-- FINISHED one: it stays as it is until the re-run finishes (a failed re-run never overwrites it).
DELETE FROM model_trainings WHERE model = $model AND version = $version AND status <> 'FINISHED';
INSERT INTO model_trainings (model, version, type, status, started_at)
VALUES ($model, $version, $type, $status, now()::TIMESTAMP)
ON CONFLICT DO NOTHING;
