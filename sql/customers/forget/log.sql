-- Record one forget: when, the kind of identifier asked for, rows deleted per table. No identifier.
INSERT INTO forget_log (forgotten_at, identifier_kind, rows_deleted) VALUES ($at, $kind, $rows::JSON);
