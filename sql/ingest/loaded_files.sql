-- The file versions (name, size, mtime) a dataset has loaded successfully.
SELECT file, file_size, file_mtime FROM loads
WHERE dataset = $ds AND status <> 'FAILED' AND file_size IS NOT NULL;
