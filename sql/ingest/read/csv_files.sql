-- CSV files of one dialect as text columns ($columns: c0, c1, ... VARCHAR) with the 0-based position of
-- their file in $paths (`file_index`: an integer, where a file name would be a long text per row), in
-- one scan; the records the reader rejects go to `_rj` / `_rs`. $no_null is a text no value can be
-- (a NUL byte: they are removed before a file is read): the reader ignores values beyond the last
-- column that are NULL, so with the default (an empty value is NULL) a record with empty values too
-- many would be read as if it had none; with it such a record is rejected (TOO MANY COLUMNS). An
-- empty value is then '', which typing reads as missing.
CREATE TEMP TABLE _read AS
SELECT *, file_index
FROM read_csv(
    $paths, columns = $columns, header = $header, skip = $skip, delim = $delim, quote = $quote,
    escape = $escape, auto_detect = FALSE, encoding = $encoding, filename = FALSE,
    store_rejects = TRUE, rejects_table = '_rj', rejects_scan = '_rs', null_padding = FALSE,
    nullstr = $no_null, max_line_size = $max_line, buffer_size = $buffer
);
