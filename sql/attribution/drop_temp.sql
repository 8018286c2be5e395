-- The work tables of a day's attribution.
DROP TABLE IF EXISTS _att_credits;
DROP TABLE IF EXISTS _att_channel_credits;
DROP TABLE IF EXISTS _att_pairs;
DROP TABLE IF EXISTS _att_ranked;
DROP TABLE IF EXISTS _att_touches;
DROP TABLE IF EXISTS _att_conversions;
DROP TABLE IF EXISTS _att_models;
DROP TABLE IF EXISTS _att_channels;
DROP TABLE IF EXISTS _att_weights;
DROP TABLE IF EXISTS _att_boot;
