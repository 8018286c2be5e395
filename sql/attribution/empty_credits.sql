-- The temp table every model's credits are computed into, one row per credited touch (the columns
-- of attribution_credits up to credited_value); credits_write.sql then writes them to the table.
-- _att_channel_credits: the rule-based models' rows already grouped per channel (rule_channel_credits.sql).
CREATE OR REPLACE TEMP TABLE _att_credits AS
SELECT
    _partition_date, conversion, conversion_id, customer_id, model, model_type, touch_id, channel,
    channel_id, touched_at, converted_at, conversion_value, credit_share, credited_value
FROM attribution_credits
WHERE FALSE;
CREATE OR REPLACE TEMP TABLE _att_channel_credits AS
SELECT
    _partition_date, conversion, conversion_id, customer_id, model, model_type, touch_id, channel,
    channel_id, touched_at, converted_at, conversion_value, credit_share::DECIMAL(38, 18) AS credit_share,
    credited_value::DECIMAL(38, 18) AS credited_value, touches
FROM attribution_credits
WHERE FALSE;
