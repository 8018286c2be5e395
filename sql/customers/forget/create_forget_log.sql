-- One row per forgotten customer: when, by which kind of identifier, how many rows left each table.
-- Never the identifier or the customer id itself.
CREATE TABLE IF NOT EXISTS forget_log (
    forgotten_at    TIMESTAMP NOT NULL,  -- UTC
    identifier_kind VARCHAR NOT NULL,    -- customer_id, customuid, emailsha256, idfa, dmpid, email, or any
    rows_deleted    JSON NOT NULL        -- {table: rows deleted}
);
