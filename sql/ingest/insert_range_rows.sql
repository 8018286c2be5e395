-- The good rows of a range file (`_typed`) into the partitions of their days ($days, with the load
-- ids $ids in the same order), in file order; rows of days outside [$first, $last] are left out.
INSERT INTO {{table}} ({{columns}}, _load_id, _partition_date, _row_number)
SELECT
    {{columns}},
    $ids[list_position($days, __day)],
    __day,
    _row_number
FROM (SELECT *, CAST({{time_field}} AS DATE) AS __day FROM _typed WHERE _reason IS NULL) AS t
WHERE __day BETWEEN $first AND $last
ORDER BY _row_number;
