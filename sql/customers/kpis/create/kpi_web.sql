-- Web sessions and page views per period of each grain (rebuilt whole by the kpi_web asset).
CREATE TABLE IF NOT EXISTS kpi_web (
    grain        VARCHAR NOT NULL,  -- day, week or month
    period_start DATE    NOT NULL,
    sessions     BIGINT  NOT NULL,  -- web_sessions events
    page_views   BIGINT  NOT NULL,  -- sum of their properties.page_views
    PRIMARY KEY (grain, period_start)
);
COMMENT ON COLUMN kpi_web.grain IS 'day, week or month';
COMMENT ON COLUMN kpi_web.period_start IS 'first day of the period (weeks start on Monday)';
COMMENT ON COLUMN kpi_web.sessions IS 'web sessions (web_sessions events) in the period';
COMMENT ON COLUMN kpi_web.page_views IS 'page views of those sessions (sum of properties.page_views)';
