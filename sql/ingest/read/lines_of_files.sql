-- Several JSON-lines files as lines with the 0-based position of their file in
-- $paths (`file_index`), in one scan; undecodable lines go to _lrj.
CREATE TEMP TABLE _read AS
SELECT *, file_index
FROM read_csv(
    $paths, columns = {'line': 'VARCHAR'}, header = FALSE, delim = chr(31),
    quote = '', escape = '', auto_detect = FALSE, strict_mode = FALSE, encoding = $encoding,
    filename = FALSE, store_rejects = TRUE, rejects_table = '_lrj', rejects_scan = '_lrs',
    max_line_size = $max_line, buffer_size = $buffer
);
