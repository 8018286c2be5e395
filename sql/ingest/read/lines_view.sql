-- The numbered lines of one JSON-lines file that hold text (a line of spaces is blank; trim only
-- runs on a line that starts with a space, as trim copies every string it is given).
CREATE OR REPLACE TEMP VIEW _lines AS
SELECT
    r.rn AS _row_number,
    r.line,
    NULL::VARCHAR AS _error
FROM _numbered AS r
WHERE r.line IS NOT NULL AND ((NOT starts_with(r.line, ' ') AND r.line <> '') OR trim(r.line) <> '');
