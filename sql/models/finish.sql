UPDATE model_trainings SET
    status = $status, cutoff = $cutoff, label_start = $label_start, label_end = $label_end,
    finished_at = now()::TIMESTAMP, error = $error, customers = $customers, positives = $positives,
    best_iteration = $best_iteration, features = $features, params = $params, metrics = $metrics,
    calibration = $calibration, model_path = $model_path, reason = $reason
WHERE model = $model AND version = $version;
