-- The fingerprints their writers record of a daily table's days (pipeline/core/parts.py): per table
-- and day, its rows and the sum of their hashes (parts/fingerprints.sql), recorded when the day was
-- written, with the table's day column and its columns and types then ({{columns}} of columns.sql).
CREATE TABLE IF NOT EXISTS part_fingerprints (
    table_name  VARCHAR NOT NULL,
    day_column  VARCHAR NOT NULL,
    columns     VARCHAR NOT NULL,
    day         DATE NOT NULL,
    rows        BIGINT NOT NULL,
    fingerprint VARCHAR NOT NULL
);
