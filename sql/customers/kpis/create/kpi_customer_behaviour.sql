-- Each customer's buying behaviour over the whole history kept (rebuilt whole by the
-- kpi_customer_behaviour asset): one row per customer that counts, buyers or not.
CREATE TABLE IF NOT EXISTS kpi_customer_behaviour (
    customer_id         VARCHAR        NOT NULL PRIMARY KEY,
    orders              BIGINT         NOT NULL,  -- completedOrder events + web sessions that purchased
    total_spending      DECIMAL(38,18),           -- sum of the orders' values; NULL from 1e20 on (too large)
    average_order_value DOUBLE,                   -- total_spending / orders; NULL without orders or spending
    first_purchase_at   TIMESTAMP,                -- UTC; NULL without orders
    last_purchase_at    TIMESTAMP
);
COMMENT ON COLUMN kpi_customer_behaviour.customer_id IS 'the customer (customuid)';
COMMENT ON COLUMN kpi_customer_behaviour.orders IS 'completedOrder events plus web sessions that purchased';
COMMENT ON COLUMN kpi_customer_behaviour.total_spending IS 'sum of the orders values; NULL when 1e20 or more (too large to hold exactly)';
COMMENT ON COLUMN kpi_customer_behaviour.average_order_value IS 'total_spending / orders, a double (NULL without orders or total_spending)';
COMMENT ON COLUMN kpi_customer_behaviour.first_purchase_at IS 'time of the first order (UTC)';
COMMENT ON COLUMN kpi_customer_behaviour.last_purchase_at IS 'time of the last order (UTC)';
