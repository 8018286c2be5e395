-- Start (or restart) a version's row with a status; a re-run replaces the version's row, except a
-- trained one (FINISHED, REJECTED or RETIRED): a trained version is never replaced, its row stays.
-- The model's other versions still QUEUED or RUNNING were left by a process that stopped mid-training
-- (a model's trainings run one at a time, in the `duckdb` pool): they are FAILED, saying so.
UPDATE model_trainings
SET status = 'FAILED', finished_at = now()::TIMESTAMP,
    error = 'interrupted: the process stopped before this training ended'
WHERE model = $model AND version <> $version AND status IN ('QUEUED', 'RUNNING');
DELETE FROM model_trainings
WHERE model = $model AND version = $version AND status NOT IN ('FINISHED', 'REJECTED', 'RETIRED');
INSERT INTO model_trainings (model, version, type, status, started_at)
VALUES ($model, $version, $type, $status, now()::TIMESTAMP)
ON CONFLICT DO NOTHING;
