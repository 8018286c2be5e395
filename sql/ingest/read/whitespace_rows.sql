-- `_rows` of a file whose values are separated by runs of spaces and tabs (no quoting), from
-- `_lines(_row_number, line, _error)` (physical line numbers, blank lines left out): the lines after
-- line $first (the header, or the skipped lines), numbered anew from 1. {{values}}: `__c[i] AS "name"`.
-- A line with another number of values than the $n columns is rejected (field `columns`).
CREATE OR REPLACE TEMP TABLE _rows AS
SELECT
    row_number() OVER (ORDER BY _row_number) AS _row_number,
    line AS _raw,
    CASE
        WHEN _error IS NOT NULL THEN _error
        WHEN len(__c) <> $n
            THEN 'columns: ' || len(__c) || ' values found where ' || $n || ' columns were declared'
    END AS _error,
    CASE WHEN _error IS NOT NULL THEN 'encoding' WHEN len(__c) <> $n THEN 'columns' END AS _error_field,
    {{values}}
FROM (
    SELECT
        *,
        CASE WHEN _error IS NULL THEN regexp_split_to_array(trim(line, ' ' || chr(9)), '[ \t]+') END AS __c
    FROM _lines WHERE _row_number > $first
) AS split;
