-- The temp table every model's credits are computed into, one row per credited touch (the columns
-- of attribution_credits up to credited_value); credits_write.sql then writes them to the table.
-- _att_channel_credits: the rows already summed per conversion (its number cix), model and channel
-- (channel_credits.sql), the conversion's columns joined back as they are written.
CREATE OR REPLACE TEMP TABLE _att_credits AS
SELECT
    _partition_date, conversion, conversion_id, customer_id, model, model_type, touch_id, channel,
    channel_id, touched_at, converted_at, conversion_value, credit_share, credited_value
FROM attribution_credits
WHERE FALSE;
CREATE OR REPLACE TEMP TABLE _att_channel_credits (
    cix INTEGER, model VARCHAR, model_type VARCHAR, touch_id VARCHAR, channel VARCHAR, channel_id INTEGER,
    touched_at TIMESTAMP, credit_share DECIMAL(38, 18), credited_value DECIMAL(38, 18), touches INTEGER
);
