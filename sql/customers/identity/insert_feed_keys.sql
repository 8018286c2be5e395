-- Every key of a feed ($ds) and the customer it points at (for re-keying the stored events).
INSERT INTO _feed_keys
SELECT $ds, CAST(key AS VARCHAR), customer_id, kind, excluded FROM _keys;
