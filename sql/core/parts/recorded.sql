-- The recorded fingerprints of $table made of its columns as they are now ($columns): day, rows, fingerprint.
SELECT day::VARCHAR, rows, fingerprint
FROM part_fingerprints
WHERE table_name = $table AND columns = $columns;
