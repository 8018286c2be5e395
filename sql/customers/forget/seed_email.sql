-- A plain e-mail address asked for: its hash, exactly as ingestion hashes the `email` column.
INSERT INTO _forget_seeds SELECT 'emailsha256', sha256(lower(trim($who))), 'email';
