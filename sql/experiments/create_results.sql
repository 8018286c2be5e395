-- The nightly decisions: one row per qualifying customer and enabled experiment (pipeline/experiments/decisions.py).
CREATE TABLE IF NOT EXISTS results (
    date             DATE NOT NULL,     -- the presentation date: the day after its partition (night)
    customer_id      VARCHAR NOT NULL,
    experiment       VARCHAR NOT NULL,
    experiment_group VARCHAR,           -- the group that decided it, if any
    variant          VARCHAR NOT NULL,  -- the variant given, 'control' (held out) or 'no_treatment' (uplift)
    is_control       BOOLEAN NOT NULL,
    score            DOUBLE NOT NULL,   -- expected value (pipeline/experiments/decisions.py)
    reason           VARCHAR NOT NULL,  -- why this variant
    assignment_probability DOUBLE,      -- the probability the decision had (nothing sent: control + no_treatment)
    send_at          TIMESTAMP,         -- when to send it (UTC; experiments with slots), NULL: no time chosen
    eligible_variants VARCHAR[]         -- the arms the customer was eligible for (no_treatment: uplift's)
);
-- a warehouse made before the policies: the column is added (NULL for its old rows)
ALTER TABLE results ADD COLUMN IF NOT EXISTS assignment_probability DOUBLE;
ALTER TABLE results ADD COLUMN IF NOT EXISTS send_at TIMESTAMP;
ALTER TABLE results ADD COLUMN IF NOT EXISTS eligible_variants VARCHAR[];
-- the arm drawn (the variant before a capacity cut it to no_treatment; 'control' for the held-out): what
-- was randomised, the arm the report analyses. Rows written before the column get it once a run
-- (sql/experiments/drawn_results.sql).
ALTER TABLE results ADD COLUMN IF NOT EXISTS drawn_variant VARCHAR;
-- for a control (held-out) row: the variant the policy drew for the customer and held out, the arm
-- they would have got (NULL for treated rows, and for rows decided before the column). The report
-- compares a learned policy's variant with the control customers drawn the same variant.
ALTER TABLE results ADD COLUMN IF NOT EXISTS held_out_variant VARCHAR;
-- the control share the customer's side was drawn with, on their first decision by the experiment: kept
-- on every later one, whatever the share is now (sql/experiments/decide.sql), and what the report's
-- sample-ratio check expects (NULL for rows decided before the column: the experiment's share).
ALTER TABLE results ADD COLUMN IF NOT EXISTS control_share DOUBLE;
