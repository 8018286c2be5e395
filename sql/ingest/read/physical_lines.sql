-- A file's physical lines in order (rowid = line number - 1), to find its blank lines.
CREATE OR REPLACE TEMP TABLE _phys AS
SELECT line
FROM read_csv(
    $path, columns = {'line': 'VARCHAR'}, header = FALSE, delim = chr(31), quote = '',
    escape = '', auto_detect = FALSE, strict_mode = FALSE, encoding = $encoding,
    store_rejects = TRUE, rejects_table = '_lrj', rejects_scan = '_lrs'
);
