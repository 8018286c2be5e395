-- The rows of one day of a BigQuery table ({{table}}; {{day}}: its partition column).
SELECT COUNT(*) AS n FROM {{table}} WHERE {{day}} = @day
