-- What each key of each feed pointed at when the identity map was last rebuilt (the stored events
-- follow it): the next rebuild re-points only the events of the keys whose row changed.
CREATE TABLE IF NOT EXISTS customer_identity_keys (
    dataset     VARCHAR NOT NULL,  -- the transaction whose rows hold the key
    key         VARCHAR NOT NULL,  -- the key as it is in the feed (events.customer_key)
    customer_id VARCHAR,           -- the customer it points at (NULL: anonymous)
    kind        VARCHAR NOT NULL,  -- the kind it matched as (events.customer_key_kind)
    excluded    BOOLEAN NOT NULL   -- it points at an excluded customer (its events are dropped)
);
