-- The attribution outputs, one partition per conversion day.
CREATE TABLE IF NOT EXISTS attribution_credits (
    _partition_date DATE NOT NULL,       -- the conversion's day (UTC)
    conversion      VARCHAR NOT NULL,    -- the conversion source's name (config attribution.conversions)
    conversion_id   VARCHAR NOT NULL,    -- the converting event's event_id
    customer_id     VARCHAR NOT NULL,
    model           VARCHAR NOT NULL,
    model_type      VARCHAR NOT NULL,
    touch_id        VARCHAR,             -- the touch's event_id; NULL: unattributed (no touch in the window)
    channel         VARCHAR NOT NULL,    -- the touch's channel, or '(unattributed)'
    channel_id      INTEGER,             -- from the channel table (NULL: not in it, or unattributed)
    touched_at      TIMESTAMP,
    converted_at    TIMESTAMP NOT NULL,
    conversion_value DOUBLE NOT NULL,    -- the conversion's value (0 when it has none)
    credit_share    DOUBLE NOT NULL,     -- the touch's share of the conversion; the shares of a conversion sum to 1
    credited_value  DOUBLE NOT NULL,     -- credit_share * the conversion's value
    touches         INTEGER              -- the credited touches the row sums (1: a per-touch row; 0: none)
);
CREATE TABLE IF NOT EXISTS attribution_summary (
    date         DATE NOT NULL,          -- the conversions' day (UTC)
    model        VARCHAR NOT NULL,
    conversion   VARCHAR NOT NULL,
    channel      VARCHAR NOT NULL,
    channel_id   INTEGER,
    conversions  DOUBLE NOT NULL,        -- credited conversions (sum of credit shares)
    value        DOUBLE NOT NULL,        -- credited value
    conversions_lower DOUBLE,            -- the bootstrap interval of conversions (NULL: attribution.bootstrap 0)
    conversions_upper DOUBLE,
    value_lower  DOUBLE,                 -- the bootstrap interval of value
    value_upper  DOUBLE
);
-- A warehouse from before the per-channel credit rows gets their touch count.
ALTER TABLE attribution_credits ADD COLUMN IF NOT EXISTS touches INTEGER;
-- A warehouse from before the bootstrap intervals gets their columns.
ALTER TABLE attribution_summary ADD COLUMN IF NOT EXISTS conversions_lower DOUBLE;
ALTER TABLE attribution_summary ADD COLUMN IF NOT EXISTS conversions_upper DOUBLE;
ALTER TABLE attribution_summary ADD COLUMN IF NOT EXISTS value_lower DOUBLE;
ALTER TABLE attribution_summary ADD COLUMN IF NOT EXISTS value_upper DOUBLE;
-- The days attributed, with or without conversions: those an identity change can make stale
-- (sql/attribution/restated_days.sql).
CREATE TABLE IF NOT EXISTS attribution_days (
    day DATE NOT NULL
);
