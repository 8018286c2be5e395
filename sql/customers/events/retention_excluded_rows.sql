-- Delete the rows of a feed's table (`table`, tx_<name> of feed $ds) of event type $retained that
-- happened before the cut-off and whose key points at an excluded customer: they have no events, so
-- retention_source_rows.sql never reaches them. <event_type> is a row's event type, by the feed's
-- event mapping (pipeline/customers/feed_events.py); the keys as the identity map last stored them.
DELETE FROM {{table}} AS t
WHERE
    CAST(t.{{customer_field}} AS VARCHAR) IN (
        SELECT k.key FROM customer_identity_keys AS k
        WHERE k.dataset = $ds AND k.excluded
    )
    AND {{event_type}} = $retained
    AND CAST(t.{{time_field}} AS TIMESTAMP) < $cutoff;
