-- The last identity rebuild whose event changes are kept (0: none).
SELECT coalesce(max(rebuild), 0) FROM identity_event_changes;
