-- Record loads (LOADED, PROCESSED or FAILED) in `loads`: one row per position of the parallel lists.
INSERT INTO loads (load_id, source, dataset, file, file_size, file_mtime, partition_date,
                   rows_read, rows_loaded, rows_rejected, status, error, started_at, finished_at)
SELECT unnest($id), unnest($source), unnest($ds), unnest($file), unnest($size), unnest($mtime), unnest($d),
       unnest($read), unnest($loaded), unnest($rejected), unnest($status), unnest($error), $started, $finished;
