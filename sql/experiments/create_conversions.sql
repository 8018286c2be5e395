-- One row per presentation (a `results` row, control included): what it converted to in its window.
CREATE TABLE IF NOT EXISTS conversions (
    date                DATE NOT NULL,       -- the presentation date: the partition
    customer_id         VARCHAR NOT NULL,
    experiment          VARCHAR NOT NULL,
    variant             VARCHAR NOT NULL,    -- as in results ('control' for the held-out)
    is_control          BOOLEAN NOT NULL,
    converted           BOOLEAN NOT NULL,
    conversions         BIGINT NOT NULL,     -- matches counted (1 at most unless a definition says count: all)
    value               DECIMAL(18,4) NOT NULL,  -- money value of the counted matches (0 when none)
    first_conversion_at TIMESTAMP,
    window_start        TIMESTAMP NOT NULL,  -- the presentation: date 00:00:00 UTC (inclusive)
    window_end          TIMESTAMP NOT NULL,  -- window_days later (exclusive)
    window_complete     BOOLEAN NOT NULL     -- every day of the window has been loaded
);
CREATE OR REPLACE TEMP TABLE _matches (
    customer_id VARCHAR, experiment VARCHAR, source VARCHAR, matched_at TIMESTAMP, value DECIMAL(18,4), keep_all BOOLEAN);
