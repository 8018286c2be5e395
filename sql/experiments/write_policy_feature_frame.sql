-- Keep one frame (_policy_frame: customer_id, the features, _row in the frame's order) and its fingerprint.
CREATE OR REPLACE TABLE {{frame}} AS SELECT * FROM _policy_frame;
INSERT OR REPLACE INTO policy_feature_frames VALUES ($frame, $model, $cutoff, $fingerprint);
