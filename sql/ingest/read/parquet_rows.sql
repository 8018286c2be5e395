-- `_rows` of a Parquet file: {{columns}} turns each typed column into text in the form its
-- declared type and format expect, so typing and validation are the same as for CSV.
CREATE OR REPLACE TEMP TABLE _rows AS
SELECT file_row_number + 1 AS _row_number, NULL::VARCHAR AS _raw, NULL::VARCHAR AS _error,
       NULL::VARCHAR AS _error_field, {{columns}}
FROM read_parquet($p, file_row_number = TRUE);
