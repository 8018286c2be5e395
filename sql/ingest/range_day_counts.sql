-- The rows of a range file (`_typed`) by day (of {{time_field}}; NULL for a row without one) and the
-- field at fault (NULL for a good row); rows of days outside [$first, $last] are left out.
SELECT
    CAST({{time_field}} AS DATE) AS day,
    _field,
    count(*) AS n
FROM _typed
WHERE CAST({{time_field}} AS DATE) IS NULL OR CAST({{time_field}} AS DATE) BETWEEN $first AND $last
GROUP BY ALL
ORDER BY day NULLS LAST, _field NULLS FIRST;
