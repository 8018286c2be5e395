-- Record the rows and fingerprint of each day of $table that {{fingerprints}} (parts/fingerprints.sql
-- over the table's rows of those days) returns; $columns: the table's columns and types now.
INSERT INTO part_fingerprints (table_name, day_column, columns, day, rows, fingerprint)
SELECT
    $table,
    $day_column,
    $columns,
    f.day::DATE,
    f.rows,
    f.fingerprint
FROM ({{fingerprints}}) AS f;
