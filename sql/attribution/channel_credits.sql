-- The credits of the models not in attribution.perTouchCredits, summed as they are computed: one row
-- per conversion (its number cix), model and channel straight into attribution_credits (in the
-- transaction that emptied the days; the conversion's columns joined back by cix; touched_at the
-- channel's last touch, touches how many touches the row sums, touch_id the touch when it sums exactly
-- one), and from the same rows, their exact DECIMAL sums per summary row into _att_channel_sums (so
-- summary.sql adds up the same bits as from the rows per touch) and the conversions and models they
-- credit into _att_credited (unattributed.sql). <model_channels> gives them: one model_channels.sql
-- per rule-based model joined by UNION ALL, or data_driven_channels.sql.
WITH channel_rows AS MATERIALIZED (
    SELECT
        g.cix, g.model, g.model_type, CASE WHEN g.touches = 1 THEN g.touch_id END AS touch_id, g.channel,
        g.channel_id, g.touched_at, g.credit_share, g.credited_value, g.touches::INTEGER AS touches
    FROM ({{model_channels}}) AS g
), credits AS (
    INSERT INTO attribution_credits (
        _partition_date, conversion, conversion_id, customer_id, model, model_type, touch_id, channel,
        channel_id, touched_at, converted_at, conversion_value, credit_share, credited_value, touches
    )
    SELECT
        c.day, c.conversion, c.conversion_id, c.customer_id, g.model, g.model_type, g.touch_id, g.channel,
        g.channel_id, g.touched_at, c.converted_at, c.value, g.credit_share::DOUBLE,
        g.credited_value::DOUBLE, g.touches
    FROM channel_rows AS g
    INNER JOIN _att_conversions AS c ON g.cix = c.cix
), credited AS (
    INSERT INTO _att_credited
    SELECT DISTINCT cix, model FROM channel_rows
)
INSERT INTO _att_channel_sums
SELECT
    c.day, g.model, c.conversion, g.channel, any_value(g.channel_id), sum(g.credit_share),
    sum(g.credited_value)
FROM channel_rows AS g
INNER JOIN _att_conversions AS c ON g.cix = c.cix
GROUP BY c.day, g.model, c.conversion, g.channel;
