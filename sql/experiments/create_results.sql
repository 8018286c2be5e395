-- The nightly decisions: one row per qualifying customer and enabled experiment (pipeline/experiments/decisions.py).
CREATE TABLE IF NOT EXISTS results (
    date             DATE NOT NULL,     -- the decision (presentation) date: the partition
    customer_id      VARCHAR NOT NULL,
    experiment       VARCHAR NOT NULL,
    experiment_group VARCHAR,           -- the group that decided it, if any
    variant          VARCHAR NOT NULL,  -- the variant given, or 'control' (held out)
    is_control       BOOLEAN NOT NULL,
    score            DOUBLE NOT NULL,   -- expected value: model score (1 without one) x the draw's expected propensity
    reason           VARCHAR NOT NULL   -- why this variant
);
