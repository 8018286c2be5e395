-- Drop a kept frame no experiment reads any more.
DROP TABLE IF EXISTS {{frame}};
DELETE FROM policy_feature_frames WHERE frame = $frame;
