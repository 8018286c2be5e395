-- The identity changes up to rebuild $rebuild are attributed: their rows go.
DELETE FROM identity_event_changes WHERE rebuild <= $rebuild;
