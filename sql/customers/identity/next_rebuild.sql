-- The number of this rebuild's rows in identity_event_changes: one more than any kept.
SELECT coalesce(max(rebuild), 0) + 1 FROM identity_event_changes;
