-- The off-policy evaluation, rebuilt whole (from the frame _evaluation_rows).
CREATE OR REPLACE TABLE policy_evaluation (
    experiment       VARCHAR NOT NULL,
    policy           VARCHAR NOT NULL,  -- nothing, uniform, propensity, uplift, thompson
    decisions        BIGINT NOT NULL,   -- logged decisions evaluated on (complete windows)
    ips_rate         DOUBLE,            -- conversions per decision: inverse propensity scoring
    ips_low          DOUBLE,
    ips_high         DOUBLE,
    dr_rate          DOUBLE,            -- doubly robust
    dr_low           DOUBLE,
    dr_high          DOUBLE,
    incremental      DOUBLE,            -- doubly robust, against sending nothing, per decision
    incremental_low  DOUBLE,
    incremental_high DOUBLE
);
INSERT INTO policy_evaluation SELECT * FROM _evaluation_rows;
