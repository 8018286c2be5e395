-- No events table yet: no event features (the empty _activity of activity.sql).
CREATE OR REPLACE TEMP TABLE _activity (row INTEGER, feature VARCHAR, value DOUBLE);
