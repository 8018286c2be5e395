-- As lines_view.sql, with the lines the reader could not decode (_bad: rn, raw, error) kept as rows.
CREATE OR REPLACE TEMP VIEW _lines AS
SELECT
    r.rn AS _row_number,
    r.line,
    NULL::VARCHAR AS _error
FROM _numbered AS r
WHERE r.line IS NOT NULL AND ((NOT starts_with(r.line, ' ') AND r.line <> '') OR trim(r.line) <> '')
UNION ALL
SELECT
    rn,
    raw,
    error
FROM _bad;
