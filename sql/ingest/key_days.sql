-- Upsert by key: the days of the rows of {{table}} that delete_by_key is about to delete (a row whose
-- key is the key of a good row of `_typed` of the days being loaded), in whatever partition they are.
SELECT DISTINCT t._partition_date
FROM {{table}} AS t
INNER JOIN (
    SELECT DISTINCT {{key}}
    FROM _typed
    WHERE _reason IS NULL AND CAST({{time_field}} AS DATE) BETWEEN $first AND $last
) AS k ON {{match}}
ORDER BY 1;
