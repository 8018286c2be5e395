-- The rows of CSV files (`_rows` as csv_rows.sql makes it, or the rows that type_rows.sql types
-- straight away): the good records of {{numbered}} (their text columns renamed to the header's
-- names by {{renamed}}) and the records the reader rejected (`_bad`), with the reason (no raw text for
-- a record longer than the limit, as for a line: limits.py).
-- {{carry}}: `_file, ` when several files are read at once, else nothing.
-- A header that ends with the delimiter (or the lines of a file without one) has an unnamed last
-- column ($named names before it, read as one more text column): a good record with a value in it
-- ({{beyond}}; FALSE for other files) is rejected ($unnamed says why) as a record with values beyond
-- the header, its raw text its values ({{values}}: the columns read) joined by the delimiter $delim.
SELECT {{carry}}_row_number,
       CASE WHEN {{beyond}} THEN concat_ws($delim, {{values}}) END AS _raw,
       CASE WHEN {{beyond}}
            THEN 'columns: ' || $unnamed || ' (Expected Number of Columns: '
                 || $named || ' Found: ' || ($named + 1) || ')' END AS _error,
       CASE WHEN {{beyond}} THEN 'columns' END AS _error_field, {{renamed}}
FROM {{numbered}} AS r
UNION ALL BY NAME
SELECT {{carry}}rn AS _row_number,
       CASE WHEN error_type = 'LINE SIZE OVER MAXIMUM' THEN ''
            ELSE trim(csv_line, chr(13) || chr(10)) END AS _raw,
       CASE error_type
         WHEN 'INVALID ENCODING' THEN 'encoding: the row is not valid ' || $encoding
              || ' (set `encoding: latin-1` for this dataset if the file is Latin-1)'
         WHEN 'MISSING COLUMNS' THEN 'columns: ' || error_message
         WHEN 'TOO MANY COLUMNS' THEN 'columns: ' || error_message
         WHEN 'LINE SIZE OVER MAXIMUM' THEN 'row: longer than ' || $max_line || ' bytes'
         ELSE 'row: ' || coalesce(error_message, error_type) END AS _error,
       CASE WHEN error_type = 'INVALID ENCODING' THEN 'encoding'
            WHEN error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS') THEN 'columns'
            ELSE 'row' END AS _error_field
FROM _bad
