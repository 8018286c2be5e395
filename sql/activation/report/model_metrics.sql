-- Each model's latest training with its main metrics.
SELECT
    model,
    version::VARCHAR AS version,
    type,
    status,
    customers,
    positives,
    json_extract(metrics::JSON, '$.auc')::DOUBLE AS auc,
    json_extract(metrics::JSON, '$.logloss')::DOUBLE AS logloss,
    json_extract(metrics::JSON, '$.top_decile_precision')::DOUBLE AS top_decile_precision
FROM model_trainings
QUALIFY row_number() OVER (PARTITION BY model ORDER BY version DESC, started_at DESC) = 1
ORDER BY model;
