-- `_rows` of CSV files: the rows of csv_values.sql ({{query}}).
CREATE OR REPLACE TEMP TABLE _rows AS
SELECT * FROM ({{query}}) AS parsed;
