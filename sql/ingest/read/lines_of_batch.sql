-- The numbered lines of a batch of JSON-lines files that hold text, as a table (not a view: the
-- JSON functions then run in parallel over it); `numbered` is the batch's numbering subquery.
CREATE OR REPLACE TEMP TABLE _lines AS
SELECT
    r._file,
    r._row_number,
    r.line,
    NULL::VARCHAR AS _error
FROM {{numbered}} AS r
WHERE r.line IS NOT NULL AND ((NOT starts_with(r.line, ' ') AND r.line <> '') OR trim(r.line) <> '');
