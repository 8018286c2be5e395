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
    abs_lift_low        DOUBLE,            -- 1 - alpha (95%) interval, Welch t
    abs_lift_high       DOUBLE,
    rel_lift            DOUBLE,            -- abs_lift / control's rate
    rel_lift_low        DOUBLE,            -- by the delta method
    rel_lift_high       DOUBLE,
    p_value             DOUBLE,            -- Welch t test of abs_lift (its interval's error)
    significant         BOOLEAN,           -- p_value < alpha
    value_lift          DOUBLE,            -- value per presented minus control's
    value_lift_low      DOUBLE,
    value_lift_high     DOUBLE,
    value_p_value       DOUBLE,            -- Welch's t test
    srm_chi2            DOUBLE,            -- the experiment's control/treated split vs its control share
    srm_p_value         DOUBLE,
    srm_mismatch        BOOLEAN,           -- srm_p_value < 0.001
    in_progress         BIGINT NOT NULL,   -- presentations counted whose window is not complete
    windows             VARCHAR NOT NULL,  -- 'complete windows only' or 'including in-progress windows'
    rel_p_value         DOUBLE,            -- t test of rel_lift (delta method)
    seq_abs_lift_low    DOUBLE,            -- always-valid interval of abs_lift (mixture SPRT)
    seq_abs_lift_high   DOUBLE,
    seq_p_value         DOUBLE,            -- always-valid p-value of abs_lift
    seq_rel_lift_low    DOUBLE,            -- always-valid interval of rel_lift
    seq_rel_lift_high   DOUBLE,
    seq_rel_p_value     DOUBLE,
    p_value_adjusted    DOUBLE,            -- p_value corrected across the experiment's variants
    significant_adjusted BOOLEAN,          -- p_value_adjusted < alpha
    metric              VARCHAR NOT NULL,  -- 'primary' or a guardrail's conversion definition
    pre_converted       BIGINT NOT NULL,   -- customers with a pre-period conversion (CUPED covariate)
    cuped_abs_lift      DOUBLE,            -- abs_lift adjusted by the pre-period covariate (CUPED)
    cuped_abs_lift_low  DOUBLE,
    cuped_abs_lift_high DOUBLE,
    cuped_p_value       DOUBLE,
    cuped_rel_lift      DOUBLE,            -- over control's unadjusted rate, delta method
    cuped_rel_lift_low  DOUBLE,
    cuped_rel_lift_high DOUBLE,
    cuped_variance_reduction DOUBLE,       -- 1 - var(adjusted abs_lift) / var(abs_lift)
    cuped_theta         DOUBLE,            -- the regression coefficient of the outcome on the covariate
    chance_to_beat_control DOUBLE,         -- Bayesian: P(rel_lift > 0)
    expected_loss       DOUBLE,            -- Bayesian: E[max(-rel_lift, 0)] of shipping the variant
    credible_low        DOUBLE,            -- Bayesian 1 - alpha credible interval of rel_lift
    credible_high       DOUBLE,
    guardrail_failed    BOOLEAN NOT NULL,  -- a guardrail of the experiment moved significantly the worse way
    customers           BIGINT,            -- customers presented: the tests' unit (control is per customer)
    capped              BIGINT,            -- presentations of the arm drawn that a capacity cut (sent nothing)
    comparison          VARCHAR,           -- treated rows: the control compared with ('whole control', 'matched
                                           -- control': those drawn the variant, for a learned policy)
    control_customers   BIGINT,            -- treated rows: the customers of that control
    control_rate        DOUBLE             -- treated rows: its conversion rate (abs_lift = conversion_rate - it)
);
