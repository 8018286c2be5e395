-- No rows, only the columns and types of an export's query ({{query}}).
SELECT * FROM ({{query}}) AS t LIMIT 0
