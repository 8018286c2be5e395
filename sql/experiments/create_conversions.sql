-- One row per presentation (a `results` row, control included): what it converted to in its window.
CREATE TABLE IF NOT EXISTS conversions (
    date                DATE NOT NULL,       -- the presentation date: the partition
    customer_id         VARCHAR NOT NULL,
    experiment          VARCHAR NOT NULL,
    variant             VARCHAR NOT NULL,    -- as in results ('control' for the held-out)
    is_control          BOOLEAN NOT NULL,
    converted           BOOLEAN NOT NULL,
    conversions         BIGINT NOT NULL,     -- matches counted (1 at most unless a definition says count: all)
    value               DECIMAL(38,18) NOT NULL, -- money value of the counted matches (0 when none)
    first_conversion_at TIMESTAMP,
    window_start        TIMESTAMP NOT NULL,  -- the presentation: date 00:00:00 UTC (inclusive)
    window_end          TIMESTAMP NOT NULL,  -- window_days later (exclusive)
    window_complete     BOOLEAN NOT NULL     -- every day of the window has been loaded
);
-- the CUPED covariate: the same conversion (or the experiment's covariate definition) in the
-- analysis.cuped_days before the presentation
ALTER TABLE conversions ADD COLUMN IF NOT EXISTS pre_converted BOOLEAN DEFAULT FALSE;
-- the arm drawn, as in results (the variant before a capacity cut it): the report's arm. Rows written
-- before the column get it from results (pipeline/experiments/conversions.py, record_drawn_variants).
ALTER TABLE conversions ADD COLUMN IF NOT EXISTS drawn_variant VARCHAR;
-- the guardrail metrics of each presentation (conversion definitions with role: guardrail), as above
CREATE TABLE IF NOT EXISTS guardrail_conversions (
    date                DATE NOT NULL,
    customer_id         VARCHAR NOT NULL,
    experiment          VARCHAR NOT NULL,
    metric              VARCHAR NOT NULL,    -- the guardrail's conversion definition
    variant             VARCHAR NOT NULL,
    is_control          BOOLEAN NOT NULL,
    converted           BOOLEAN NOT NULL,
    conversions         BIGINT NOT NULL,
    value               DECIMAL(38,18) NOT NULL,
    first_conversion_at TIMESTAMP,
    window_start        TIMESTAMP NOT NULL,
    window_end          TIMESTAMP NOT NULL,
    window_complete     BOOLEAN NOT NULL,
    pre_converted       BOOLEAN NOT NULL
);
ALTER TABLE guardrail_conversions ADD COLUMN IF NOT EXISTS drawn_variant VARCHAR;
