-- Customers by the channels that reach them, per period of each grain (rebuilt whole by the
-- kpi_reachability asset). Every period has one row per reachability, zeros included.
CREATE TABLE IF NOT EXISTS kpi_reachability (
    grain           VARCHAR NOT NULL,  -- day, week or month
    period_start    DATE    NOT NULL,
    reachability    VARCHAR NOT NULL,  -- email_and_mobile, email_only, mobile_only, not_reachable
    customers_added BIGINT  NOT NULL,  -- customers created in the period
    customers_total BIGINT  NOT NULL,  -- customers created up to the end of the period
    PRIMARY KEY (grain, period_start, reachability)
);
COMMENT ON COLUMN kpi_reachability.grain IS 'day, week or month';
COMMENT ON COLUMN kpi_reachability.period_start IS 'first day of the period (weeks start on Monday)';
COMMENT ON COLUMN kpi_reachability.reachability IS 'email_and_mobile, email_only, mobile_only or not_reachable (email: has an emailsha256; mobile: has an idfa)';
COMMENT ON COLUMN kpi_reachability.customers_added IS 'customers created in the period';
COMMENT ON COLUMN kpi_reachability.customers_total IS 'customers created up to the end of the period';
