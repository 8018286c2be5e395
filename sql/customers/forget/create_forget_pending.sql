-- One row per forget the published snapshot may still hold, written in the forget's transaction: the
-- next publication keeps no older version, then deletes the row (pipeline/activation/publish.py).
CREATE TABLE IF NOT EXISTS forget_pending (
    forget_id    VARCHAR NOT NULL,
    forgotten_at TIMESTAMP NOT NULL  -- UTC, as in forget_log
);
