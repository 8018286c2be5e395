-- The schema changes of one load: one row per column ($columns, with $changes in the same order).
INSERT INTO schema_changes
SELECT $ds, unnest($columns), unnest($changes), $file, $load_id, $at;
