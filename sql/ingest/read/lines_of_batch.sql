-- The numbered lines of a batch of JSON-lines files that hold text, as a view (the lines are not
-- copied once more: _rows is made from them), with the lines the reader could not decode (`_bad`:
-- _file, rn, raw, error); {{numbered}} is the batch's numbering subquery.
CREATE OR REPLACE TEMP VIEW _lines AS
SELECT
    r._file,
    r._row_number,
    r.line,
    NULL::VARCHAR AS _error
FROM {{numbered}} AS r
WHERE r.line IS NOT NULL AND ((NOT starts_with(r.line, ' ') AND r.line <> '') OR trim(r.line) <> '')
UNION ALL
SELECT
    _file,
    rn,
    raw,
    error
FROM _bad;
