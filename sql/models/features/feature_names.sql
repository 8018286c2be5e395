-- The features' numbers and names (_feature_ids: activity.sql, attr_values.sql) in name order, the
-- numbers of one name together: the wide matrix's columns (pipeline/models/features.py _wide).
SELECT fid, feature FROM _feature_ids ORDER BY feature, fid;
