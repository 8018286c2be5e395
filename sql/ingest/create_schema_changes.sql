-- What the files of a dataset brought that its config does not declare (`new_columns`): a column
-- added to the dataset's table as a String (`added`, once), or left out of a load (`discarded`).
CREATE TABLE IF NOT EXISTS schema_changes (
    dataset     VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    change      VARCHAR NOT NULL CHECK (change IN ('added', 'discarded')),
    file        VARCHAR,
    load_id     BIGINT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
