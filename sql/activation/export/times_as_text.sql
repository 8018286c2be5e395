-- An export's rows ({{query}}) for a CSV file, each timestamp column as DuckDB's text ({{casts}}: the
-- column cast to VARCHAR), the text JSON lines holds: whole seconds always, a fraction only when the
-- value has one, whatever the night's other values.
SELECT * REPLACE ({{casts}}) FROM ({{query}}) AS t
