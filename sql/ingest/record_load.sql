-- Record one load (LOADED, PROCESSED or FAILED) in `loads`.
INSERT INTO loads (load_id, source, dataset, file, file_size, file_mtime, partition_date,
                   rows_read, rows_loaded, rows_rejected, status, error, started_at, finished_at)
VALUES ($id, $source, $ds, $file, $size, $mtime, $d, $read, $loaded, $rejected, $status, $error, $started, $finished);
