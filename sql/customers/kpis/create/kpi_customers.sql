-- Customers added and in total, per period of each grain (rebuilt whole by the kpi_customers asset).
CREATE TABLE IF NOT EXISTS kpi_customers (
    grain           VARCHAR NOT NULL,  -- day, week or month
    period_start    DATE    NOT NULL,  -- the day; the Monday of the ISO week; the 1st of the month
    customers_added BIGINT  NOT NULL,  -- customers created in the period (first customer file they were in)
    customers_total BIGINT  NOT NULL,  -- customers created up to the end of the period (or the last day with data)
    PRIMARY KEY (grain, period_start)
);
COMMENT ON COLUMN kpi_customers.grain IS 'day, week or month';
COMMENT ON COLUMN kpi_customers.period_start IS 'first day of the period (weeks start on Monday)';
COMMENT ON COLUMN kpi_customers.customers_added IS 'customers created in the period (day of the first customer file holding them)';
COMMENT ON COLUMN kpi_customers.customers_total IS 'customers created up to the end of the period';
