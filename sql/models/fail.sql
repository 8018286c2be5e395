-- A version's training failed: its row says so, unless the version is trained (FINISHED, REJECTED or
-- RETIRED: a failed re-run never changes it).
UPDATE model_trainings SET status = 'FAILED', finished_at = now()::TIMESTAMP, error = $error
WHERE model = $model AND version = $version AND status NOT IN ('FINISHED', 'REJECTED', 'RETIRED');
