-- The strptime pattern of the column being converted (retype_column.sql reads it with getvariable);
-- NULL once the columns are converted.
SET VARIABLE nightjar_retype_pattern = $pattern;
