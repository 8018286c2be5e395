-- The customer feature frames policy_evaluation keeps (pipeline/experiments/policy_features.py): per
-- kept frame (its table), the model and cut-off it is of and the fingerprint of what it read.
CREATE TABLE IF NOT EXISTS policy_feature_frames (
    frame       VARCHAR PRIMARY KEY,
    model       VARCHAR NOT NULL,
    cutoff      DATE NOT NULL,
    fingerprint VARCHAR NOT NULL
);
