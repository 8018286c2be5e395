-- A view over a table published as one Parquet file, its columns ({{columns}}) in their order.
CREATE VIEW {{name}} AS
SELECT {{columns}} FROM read_parquet({{files}});
