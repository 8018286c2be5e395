-- An export's rows as JSON objects, one per line.
SELECT to_json(t) FROM ({{query}}) AS t
