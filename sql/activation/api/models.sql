-- Each model's latest training.
SELECT model, version, type, status, cutoff, customers, positives, metrics::JSON AS metrics, reason
FROM model_trainings
QUALIFY row_number() OVER (PARTITION BY model ORDER BY version DESC, started_at DESC) = 1
ORDER BY model
