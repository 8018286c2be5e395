-- Whether the records of $table (per $day_column, made of its columns as they are now: $columns) add
-- up to the rows {{table}} holds (its count from the table's metadata, not a scan).
SELECT
    (SELECT count(*) FROM {{table}})
    = (
        SELECT coalesce(sum(p.rows), 0)
        FROM part_fingerprints AS p
        WHERE p.table_name = $table AND p.day_column = $day_column AND p.columns = $columns
    );
