-- One table of events unifying every declared transaction feed, one partition per day.
CREATE TABLE IF NOT EXISTS events (
    event_id          VARCHAR NOT NULL,   -- <transaction>:<load_id>:<row_number>
    customer_id       VARCHAR,            -- NULL: anonymous (the key points at no customer)
    customer_key      VARCHAR NOT NULL,   -- the identifier the feed's row holds
    customer_key_kind VARCHAR NOT NULL,
    type              VARCHAR NOT NULL,   -- a standard type (completedOrder, ...) or the transaction name
    context           VARCHAR NOT NULL,   -- WEB, MOBILE, ECOMMERCE, RETAIL, ...
    occurred_at       TIMESTAMP NOT NULL, -- UTC
    value             DECIMAL(38,18),     -- the value field's value, at its declared scale
    float_value       DOUBLE,             -- a Float value field's value as the double it is
    currency          VARCHAR,
    utm_source        VARCHAR,
    utm_medium        VARCHAR,
    utm_campaign      VARCHAR,
    utm_term          VARCHAR,
    utm_content       VARCHAR,
    channel           VARCHAR,
    properties        JSON,               -- the row's other fields
    source            VARCHAR NOT NULL,   -- the transaction (dataset) name
    load_id           BIGINT NOT NULL,
    _partition_date   DATE NOT NULL
);

-- A warehouse whose events were built before float_value existed gains it (its value column is widened
-- to DECIMAL(38,18) by pipeline/customers/events.py).
ALTER TABLE events ADD COLUMN IF NOT EXISTS float_value DOUBLE;

-- The days whose events were built (a day without any event too): the identity map writes back the
-- events of a key no longer excluded on these days only (pipeline/customers/identity.py).
CREATE TABLE IF NOT EXISTS built_event_days (
    day DATE NOT NULL
);
