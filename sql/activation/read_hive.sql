-- A view over a daily table's Parquet files, hive-partitioned by its day ({{types}}: that column
-- as DATE), with the table's columns in their order ({{columns}}).
CREATE VIEW {{name}} AS
SELECT {{columns}} FROM read_parquet({{files}}, hive_partitioning = TRUE, hive_types = {{types}});
