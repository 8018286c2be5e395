-- A version's training failed: its row says so, unless it is a FINISHED one (a failed re-run).
UPDATE model_trainings SET status = 'FAILED', finished_at = now()::TIMESTAMP, error = $error
WHERE model = $model AND version = $version AND status <> 'FINISHED';
