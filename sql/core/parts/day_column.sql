-- The day column of a table whose days have recorded fingerprints (none: not recorded).
SELECT any_value(day_column) FROM part_fingerprints WHERE table_name = $table;
