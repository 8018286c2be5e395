-- Events by type and context, per period of each grain (rebuilt whole by the kpi_events asset).
-- Every period has one row per (type, context) that occurs anywhere in `events`, zeros included.
CREATE TABLE IF NOT EXISTS kpi_events (
    grain            VARCHAR NOT NULL,  -- day, week or month
    period_start     DATE    NOT NULL,
    type             VARCHAR NOT NULL,  -- the event type (completedOrder, web_sessions, campaignSent, ...)
    context          VARCHAR NOT NULL,  -- WEB, RETAIL, DIGITAL_CAMPAIGN, ...
    events           BIGINT  NOT NULL,  -- events in the period
    anonymous_events BIGINT  NOT NULL,  -- of them, events of no known customer
    customers        BIGINT  NOT NULL,  -- distinct known customers with such an event in the period
    PRIMARY KEY (grain, period_start, type, context)
);
COMMENT ON COLUMN kpi_events.grain IS 'day, week or month';
COMMENT ON COLUMN kpi_events.period_start IS 'first day of the period (weeks start on Monday)';
COMMENT ON COLUMN kpi_events.type IS 'event type';
COMMENT ON COLUMN kpi_events.context IS 'event context';
COMMENT ON COLUMN kpi_events.events IS 'events in the period';
COMMENT ON COLUMN kpi_events.anonymous_events IS 'events in the period that point at no known customer';
COMMENT ON COLUMN kpi_events.customers IS 'distinct known customers with such an event in the period';
