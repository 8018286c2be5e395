-- A file's physical lines and how many of them are blank, read as one VARCHAR column (delimiter
-- chr(31), no quoting): what the CSV reader counted is checked against them.
SELECT
    count(*) AS lines,
    count(*) FILTER (WHERE trim(coalesce(line, '')) = '') AS blank
FROM read_csv(
    $path, columns = {'line': 'VARCHAR'}, header = FALSE, delim = chr(31), quote = '',
    escape = '', auto_detect = FALSE, strict_mode = FALSE, encoding = $encoding,
    store_rejects = TRUE, rejects_table = '_lrj', rejects_scan = '_lrs'
);
