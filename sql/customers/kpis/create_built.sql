-- What each KPI table was last built from: per source (events, customers) and day, the rows that
-- count and a fingerprint of them (pipeline/customers/kpi_updates.py compares it with fingerprints.sql
-- to update only the periods of new days, or rebuild whole when the past changed).
CREATE TABLE IF NOT EXISTS built_kpis (
    kpi         VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,   -- events (by event day) or customers (by creation day)
    day         DATE,
    rows        BIGINT NOT NULL,
    fingerprint HUGEINT NOT NULL    -- sum of the rows' hashes (an event's load, customer, type, context, value)
);
