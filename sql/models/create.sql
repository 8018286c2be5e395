-- One row per model version (one training run): status, windows, sizes, features, parameters, metrics.
CREATE TABLE IF NOT EXISTS model_trainings (
    model          VARCHAR NOT NULL,
    version        DATE NOT NULL,      -- the partition (day) it was trained on; data up to that day
    type           VARCHAR NOT NULL,   -- response, churn, recommender
    -- FINISHED: in use (the latest FINISHED on or before a day scores it); REJECTED: worse than the
    -- version in use or not better than its baselines (reason says why); RETIRED: rolled back or
    -- replaced by a promotion.
    status         VARCHAR NOT NULL CHECK (
        status IN ('QUEUED', 'RUNNING', 'FINISHED', 'FAILED', 'REJECTED', 'RETIRED')
    ),
    cutoff         DATE,               -- features strictly before it
    label_start    DATE,
    label_end      DATE,               -- exclusive
    started_at     TIMESTAMP,
    finished_at    TIMESTAMP,
    error          VARCHAR,
    customers      BIGINT,
    positives      BIGINT,
    best_iteration INTEGER,
    features       JSON,
    params         JSON,
    metrics        JSON,
    calibration    JSON,
    model_path     VARCHAR,
    reason         VARCHAR,            -- why REJECTED or RETIRED
    PRIMARY KEY (model, version)
);
-- Explanations of each version (SHAP values from LightGBM's pred_contrib).
CREATE TABLE IF NOT EXISTS model_feature_impact (
    model VARCHAR NOT NULL, version DATE NOT NULL, feature VARCHAR NOT NULL,
    mean_abs_shap DOUBLE NOT NULL, rank INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS model_beeswarm (
    model VARCHAR NOT NULL, version DATE NOT NULL, customer_id VARCHAR NOT NULL, feature VARCHAR NOT NULL,
    value DOUBLE, value_text VARCHAR, shap DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS model_dependence (
    model VARCHAR NOT NULL, version DATE NOT NULL, customer_id VARCHAR NOT NULL, feature VARCHAR NOT NULL,
    value DOUBLE, shap DOUBLE NOT NULL, secondary_feature VARCHAR, secondary_value DOUBLE
);
-- Nightly scores: one row per day, customer and model, from the latest FINISHED version on or before the day.
CREATE TABLE IF NOT EXISTS predictions (
    date        DATE NOT NULL,     -- the partition: features include this day's events
    customer_id VARCHAR NOT NULL,
    model       VARCHAR NOT NULL,
    version     DATE NOT NULL,
    score       DOUBLE NOT NULL,   -- probability (response, churn); the best item's score (recommender)
    items       VARCHAR[]          -- recommender: the top-k items, best first; NULL for other models
);
-- Customer lifetime value of the clv models (BG/NBD and Gamma-Gamma), nightly beside predictions.
CREATE TABLE IF NOT EXISTS clv (
    date               DATE NOT NULL,     -- the partition: purchases up to and including this day
    customer_id        VARCHAR NOT NULL,  -- customers with a qualifying purchase in history_days
    model              VARCHAR NOT NULL,
    version            DATE NOT NULL,
    horizon_days       INTEGER NOT NULL,  -- the next N days (the model's label.horizon_days)
    p_alive            DOUBLE NOT NULL,   -- probability that the customer is still active
    expected_purchases DOUBLE NOT NULL,   -- expected purchase days in the next horizon_days
    expected_spend     DOUBLE,            -- expected value of one purchase (Gamma-Gamma)
    clv                DOUBLE             -- expected_purchases x expected_spend: the value of the next horizon_days
);
