-- Orders, revenue and average order value by context, per period of each grain (rebuilt whole by
-- the kpi_purchases asset). Every period has one row per context that has any order, zeros included.
CREATE TABLE IF NOT EXISTS kpi_purchases (
    grain               VARCHAR        NOT NULL,  -- day, week or month
    period_start        DATE           NOT NULL,
    context             VARCHAR        NOT NULL,  -- ECOMMERCE (orders placed online, context WEB), RETAIL, ...
    orders              BIGINT         NOT NULL,  -- completedOrder events + web sessions that purchased
    revenue             DECIMAL(38,18),           -- sum of the orders' values; NULL from 1e20 on (too large)
    average_order_value DOUBLE,                   -- revenue / orders; NULL without orders or revenue
    buyers              BIGINT         NOT NULL,  -- distinct known customers who ordered in the period
    PRIMARY KEY (grain, period_start, context)
);
COMMENT ON COLUMN kpi_purchases.grain IS 'day, week or month';
COMMENT ON COLUMN kpi_purchases.period_start IS 'first day of the period (weeks start on Monday)';
COMMENT ON COLUMN kpi_purchases.context IS 'ECOMMERCE (orders in context WEB, e.g. web sessions that purchased), RETAIL, ...';
COMMENT ON COLUMN kpi_purchases.orders IS 'completedOrder events plus web sessions that purchased';
COMMENT ON COLUMN kpi_purchases.revenue IS 'sum of the orders values; NULL when 1e20 or more (too large to hold exactly)';
COMMENT ON COLUMN kpi_purchases.average_order_value IS 'revenue / orders, a double (NULL without orders or revenue)';
COMMENT ON COLUMN kpi_purchases.buyers IS 'distinct known customers who ordered in the period';
