-- One day's rows of a BigQuery table ({{target}}) replaced by the staged rows ({{stage}}, that day's
-- rows only) in one MERGE statement: BigQuery applies a statement whole or not at all, so a reader
-- sees the old day or the new one. {{day}}: the partition column; {{columns}} / {{values}}: the
-- exported columns and the staged ones (quoted by pipeline/activation/bigquery.py).
MERGE {{target}} AS t
USING {{stage}} AS s
ON FALSE
WHEN NOT MATCHED BY SOURCE AND t.{{day}} = @day THEN DELETE
WHEN NOT MATCHED THEN INSERT ({{columns}}) VALUES ({{values}})
