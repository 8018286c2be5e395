-- The events of one type that happened before the cut-off, with the feed row each came from
-- (event_id is <transaction>:<load_id>:<row_number>).
CREATE OR REPLACE TEMP TABLE _doomed AS
SELECT source, load_id, CAST(split_part(event_id, ':', 3) AS BIGINT) AS row_number
FROM events WHERE type = $type AND occurred_at < $cutoff;
