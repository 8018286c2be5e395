-- The channel table of the config: id, name and whether it is paid (pay-per-click).
CREATE OR REPLACE TEMP TABLE _att_channels AS
SELECT
    unnest($ids::INTEGER []) AS channel_id,
    unnest($names::VARCHAR []) AS name,
    unnest($paid::BOOLEAN []) AS paid;
