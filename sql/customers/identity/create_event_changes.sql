-- The days and customers whose stored events a rebuild changed (re-pointed to another customer,
-- dropped with an excluded one, brought back from the feeds): one row per rebuild, day and customer
-- on either side of the change. Attribution re-attributes the conversion days they reach and then
-- clears the rows it read (pipeline/attribution/restate.py).
CREATE TABLE IF NOT EXISTS identity_event_changes (
    rebuild     BIGINT NOT NULL,   -- the rebuild that made the change (counts up while rows are kept)
    day         DATE NOT NULL,     -- the events' partition
    customer_id VARCHAR NOT NULL   -- a customer the events pointed at before or after
);
