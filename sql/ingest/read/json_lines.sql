-- `_rows` of JSON-lines files: the rows of json_values.sql ({{query}}).
CREATE OR REPLACE TEMP TABLE _rows AS
SELECT * FROM ({{query}}) AS parsed;
