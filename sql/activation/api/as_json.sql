-- Any API query's rows, each as one JSON object (DuckDB renders dates, lists and JSON columns).
SELECT to_json(t) FROM ({{query}}) AS t;
