-- One JSON-lines file as lines (one VARCHAR column); lines the reader cannot decode go to _lrj.
CREATE TEMP TABLE _read AS
SELECT *
FROM read_csv(
    $path, columns = {'line': 'VARCHAR'}, header = FALSE, delim = chr(31), quote = '',
    escape = '', auto_detect = FALSE, strict_mode = FALSE, encoding = $encoding,
    store_rejects = TRUE, rejects_table = '_lrj', rejects_scan = '_lrs', max_line_size = $max_line,
    buffer_size = $buffer
);
