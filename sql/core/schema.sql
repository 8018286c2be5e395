-- Nightjar's own bookkeeping tables. Every statement is idempotent; run on every connect for writing.
CREATE SEQUENCE IF NOT EXISTS load_ids START 1;

-- One row per attempt to load one file (or query) into one dataset partition.
CREATE TABLE IF NOT EXISTS loads (
    load_id        BIGINT PRIMARY KEY,
    source         VARCHAR NOT NULL,
    dataset        VARCHAR NOT NULL,
    file           VARCHAR,
    file_size      BIGINT,
    file_mtime     DOUBLE,
    partition_date DATE,
    rows_read      BIGINT NOT NULL,
    rows_loaded    BIGINT NOT NULL,
    rows_rejected  BIGINT NOT NULL,
    status         VARCHAR NOT NULL CHECK (status IN ('LOADED', 'PROCESSED', 'FAILED')),
    error          VARCHAR,
    started_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP NOT NULL,
    CHECK (rows_read = rows_loaded + rows_rejected)
);

-- Every rejected row, with its number in the file, the raw row and a reason naming the field.
CREATE TABLE IF NOT EXISTS rejects (
    load_id        BIGINT NOT NULL,
    dataset        VARCHAR NOT NULL,
    file           VARCHAR,
    partition_date DATE,
    row_number     BIGINT NOT NULL,
    field          VARCHAR NOT NULL,
    reason         VARCHAR NOT NULL,
    raw_row        VARCHAR
);
