-- The fingerprint a kept frame was computed with (NULL: none kept).
SELECT max(fingerprint) FROM policy_feature_frames WHERE frame = $frame;
