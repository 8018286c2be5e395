-- Delete the events of one type that happened before the cut-off (retention policy).
DELETE FROM events WHERE type = $type AND occurred_at < $cutoff;
