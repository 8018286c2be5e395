-- The frames kept.
SELECT frame FROM policy_feature_frames ORDER BY frame;
