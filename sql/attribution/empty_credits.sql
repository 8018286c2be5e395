-- The temp table every model's credits per touch are computed into (the columns of
-- attribution_credits up to credited_value); credits_write.sql then writes them to the table.
-- The models summed per channel as they are computed (channel_credits.sql) are written straight into
-- attribution_credits; beside them, _att_channel_sums keeps their exact DECIMAL sums per summary row
-- (the conversions' day, model, conversion source and channel: what summary.sql adds up) and
-- _att_credited each conversion (its number cix) and model they credit (what unattributed.sql asks).
CREATE OR REPLACE TEMP TABLE _att_credits AS
SELECT
    _partition_date, conversion, conversion_id, customer_id, model, model_type, touch_id, channel,
    channel_id, touched_at, converted_at, conversion_value, credit_share, credited_value
FROM attribution_credits
WHERE FALSE;
CREATE OR REPLACE TEMP TABLE _att_channel_sums (
    day DATE, model VARCHAR, conversion VARCHAR, channel VARCHAR, channel_id INTEGER,
    credit_share DECIMAL(38, 18), credited_value DECIMAL(38, 18)
);
CREATE OR REPLACE TEMP TABLE _att_credited (cix INTEGER, model VARCHAR);
