CREATE TABLE IF NOT EXISTS experiment_report (
    experiment          VARCHAR NOT NULL,
    variant             VARCHAR NOT NULL,
    is_control          BOOLEAN NOT NULL,
    scope               VARCHAR NOT NULL,  -- 'total' (every date) or 'cumulative' (from_date .. to_date)
    from_date           DATE NOT NULL,
    to_date             DATE NOT NULL,
    presented           BIGINT NOT NULL,
    converted           BIGINT NOT NULL,
    conversion_rate     DOUBLE,
    value_per_presented DOUBLE,
    abs_lift            DOUBLE,            -- conversion rate minus control's
    abs_lift_low        DOUBLE,            -- 95% interval
    abs_lift_high       DOUBLE,
    rel_lift            DOUBLE,            -- abs_lift / control's rate
    rel_lift_low        DOUBLE,
    rel_lift_high       DOUBLE,
    p_value             DOUBLE,            -- two-proportion z test
    significant         BOOLEAN,           -- p_value < 0.05
    value_lift          DOUBLE,            -- value per presented minus control's
    value_lift_low      DOUBLE,
    value_lift_high     DOUBLE,
    value_p_value       DOUBLE,            -- Welch's t test
    srm_chi2            DOUBLE,            -- the experiment's control/treated split vs its control share
    srm_p_value         DOUBLE,
    srm_mismatch        BOOLEAN,           -- srm_p_value < 0.001
    in_progress         BIGINT NOT NULL,   -- presentations counted whose window is not complete
    windows             VARCHAR NOT NULL   -- 'complete windows only' or 'including in-progress windows'
);
