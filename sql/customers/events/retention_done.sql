-- The working table of retention dropped.
DROP TABLE IF EXISTS _doomed;
