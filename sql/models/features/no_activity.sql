-- No events table yet: no event features (the empty _activity and _feature_ids of activity.sql).
CREATE OR REPLACE TEMP TABLE _activity (row INTEGER, fid INTEGER, value DOUBLE);
CREATE OR REPLACE TEMP TABLE _feature_ids (fid INTEGER, feature VARCHAR);
