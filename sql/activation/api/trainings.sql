-- Every training of one model, newest first.
SELECT
    version, type, status, cutoff, label_start, label_end, started_at, finished_at, error,
    customers, positives, best_iteration, features::JSON AS features, params::JSON AS params,
    metrics::JSON AS metrics, calibration::JSON AS calibration, reason
FROM model_trainings WHERE model = $model
ORDER BY version DESC, started_at DESC
