"""Reading: files -> the temporary table ``_rows`` of text columns, one row per data record.

``_rows`` has ``_row_number`` (1-based record number, header and blank lines not counted) and,
for a record that could not even be split into fields, ``_error``/``_error_field`` and the raw
text in ``_raw``. One file (CSV, JSON lines, Parquet) is read by the ``read_*_rows`` functions;
files of several days that share format and header are read at once by ``read_*_batch`` (then
``_rows`` also has ``_file``, the 1-based position of the row's file).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Collection
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from pipeline.core.formats import EPOCH_FORMATS, to_strptime
from pipeline.core.settings import FieldType
from pipeline.core.sql import ident, sql
from pipeline.core.warehouse import scalar
from pipeline.ingest.config import WHITESPACE, CsvDialect, Limits, TransactionSpec
from pipeline.ingest.dialect import name_json_problems
from pipeline.ingest.header import DEFAULT_DIALECT, Header, file_header
from pipeline.ingest.json_lines import json_values
from pipeline.ingest.line_scan import LineScan, scan_lines
from pipeline.ingest.numbering import drop_numbering, number_rows, record_numbers
from pipeline.ingest.raw_lines import with_raw_lines
from pipeline.ingest.read_errors import IngestError, check_not_utf16, read_error
from pipeline.ingest.sources.files import LandedFile

# The reader's NULL text: one no value can be (NUL bytes are removed before a file is read), so that a
# record with empty values beyond the header's columns is rejected, not read as if it had none
# (sql/ingest/read/csv_files.sql).
NO_NULL = "\x00"
MAX_RECORD_BYTES = Limits().max_record_bytes  # a longer record is rejected (limits.max_record_bytes)
# what rejects a record of a file whose lines end with the delimiter (header.py), with a header or without
UNNAMED_OF_HEADER = "a value in the unnamed last column of the header"
UNNAMED_WITHOUT_HEADER = "a value after the delimiter that ends the lines"


def line_limits(max_line: int) -> dict[str, int]:
    """The reader's parameters for records of at most ``max_line`` bytes: its buffer holds two."""
    return {"max_line": max_line, "buffer": max(32 << 20, 2 * max_line)}


class NotBatchable(Exception):
    """The files cannot be loaded together (the reader failed or did not keep them apart): load
    them one by one, which gives each its own outcome and message."""


def _csv_values(header: Header, numbered: str, carry: str = "") -> str:
    """The query of the rows of CSV files: ``numbered`` holds the good records (text columns ``c0``,
    ``c1``, ...), ``_bad`` the rejected ones; ``carry`` is ``"_file, "`` or nothing. Its parameters
    are those of _csv_params."""
    renamed = ", ".join(f"r.c{i} AS {ident(n)}" for i, n in enumerate(header.names))
    fragments = {
        "renamed": renamed,
        "numbered": numbered,
        "carry": carry,
        "beyond": f"r.c{len(header.names)} <> ''" if header.trailing else "FALSE",
        "values": ", ".join(f"r.c{i}" for i in range(header.width)),
    }
    return sql("ingest/read/csv_values", fragments=fragments)


def _csv_params(header: Header, encoding: str, dialect: CsvDialect, max_line: int) -> dict:
    """The parameters of _csv_values' query."""
    named, delim = len(header.names), dialect.delimiter
    unnamed = UNNAMED_OF_HEADER if dialect.header else UNNAMED_WITHOUT_HEADER
    return {"encoding": encoding, "max_line": max_line, "named": named, "delim": delim, "unnamed": unnamed}


def _csv_rows(header: Header, numbered: str, carry: str = "") -> str:
    """The statement making ``_rows`` of CSV files (see _csv_values)."""
    return sql("ingest/read/csv_rows", fragments={"query": _csv_values(header, numbered, carry)})


def _encoding_reason(encoding: str) -> str:
    return (
        f"encoding: the line is not valid {encoding} "
        "(set `encoding: latin-1` for this dataset if the file is Latin-1)"
    )


def _blank_lines(f: LandedFile, records: int, before: int = 1, scan: LineScan | None = None) -> np.ndarray:
    """Positions of the blank lines after the header (``before`` lines precede the first record),
    as DuckDB's CSV reader counts lines.

    The reader skips blank lines but counts them in the line numbers of its rejects. Their
    positions are known from a plain line scan only when no quoted cell spans lines (then every
    non-blank line is one record); otherwise none are returned and numbers count blank lines.
    The scan is on the bytes (line_scan.py): a line that is not valid in the dataset's encoding
    is a line too. ``scan``: the file's scan when it was made already (raw_lines.py makes one for
    a file with records rejected for their bytes), else the file is scanned.
    """
    lines = scan or scan_lines(f.path)
    blanks = lines.blank_after(before)
    if not len(blanks) or not lines.one_record_a_line(before, records):
        return np.array([], dtype=np.int64)
    return blanks


def physical_lines(path: Path, chunk: int = 1 << 23) -> int | None:
    """The number of lines of a plain file (ended by LF, CRLF or CR), counted on the bytes
    (LF and CR are the same bytes in UTF-8 and Latin-1); None for a gzip file."""
    if path.name.lower().endswith(".gz"):
        return None
    n, prev_cr, last = 0, False, b""
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            n += int(np.count_nonzero(np.frombuffer(block, np.uint8) == 10))  # LF (numpy: faster than count)
            if b"\r" in block:  # CR and CRLF only where a CR is (most files have none)
                n += block.count(b"\r") - block.count(b"\r\n")
            if prev_cr and block[:1] == b"\n":  # a CRLF split between two blocks
                n -= 1
            prev_cr, last = block[-1:] == b"\r", block[-1:]
    return n + (1 if last not in (b"\n", b"\r", b"") else 0)


def _read_csv_files(
    con: duckdb.DuckDBPyConnection,
    paths: list[str],
    encoding: str,
    n: int,
    dialect: CsvDialect,
    max_line: int = MAX_RECORD_BYTES,
) -> None:
    """``_read`` of CSV files in the dialect: text columns ``c0`` .. ``c<n-1>`` and ``file_index``."""
    con.execute("DROP TABLE IF EXISTS _read; DROP TABLE IF EXISTS _rj; DROP TABLE IF EXISTS _rs")
    con.execute(
        sql("ingest/read/csv_files"),
        {
            "paths": paths,
            "columns": {f"c{i}": "VARCHAR" for i in range(n)},
            "header": dialect.header,
            "skip": dialect.skip_rows,
            "delim": dialect.delimiter,
            "quote": dialect.quote,
            "escape": dialect.escape_char,
            "encoding": encoding,
            "no_null": NO_NULL,
            **line_limits(max_line),
        },
    )


def _lines_before(dialect: CsvDialect) -> int:
    """How many lines come before the first record (skipped lines and the header)."""
    return dialect.skip_rows + (1 if dialect.header else 0)


# HAVING: the reader's rejects that are records. A line of spaces only is a blank line (as in JSON
# lines and line_scan.py), but the CSV reader takes it for a record of one value (``Found: 1``), its
# text led by the line end of an empty line before it, if any.
_NOT_BLANK = (
    "NOT coalesce(bool_and(error_type = 'MISSING COLUMNS') "
    "AND trim(any_value(csv_line), ' ' || chr(10) || chr(13)) = '', false)"
)


# The reader's error type and message of a record (one error per value too many, the last counting them
# all; else that of its first column at fault, no column first: a record over max_line); {j}: the alias.
_AT = "coalesce({j}column_idx, -1)"
_ERROR_TYPE = f"arg_min({{j}}error_type, {_AT})"
_ERROR_MESSAGE = (
    f"CASE WHEN {_ERROR_TYPE} = 'TOO MANY COLUMNS' "
    f"THEN arg_max({{j}}error_message, {_AT}) ELSE arg_min({{j}}error_message, {_AT}) END"
)


def read_csv_rows(
    con: duckdb.DuckDBPyConnection,
    f: LandedFile,
    encoding: str,
    dialect: CsvDialect = DEFAULT_DIALECT,
    max_line: int = MAX_RECORD_BYTES,
) -> list[str]:
    """Read a CSV file into ``_rows``; returns its column names."""
    header = file_header(f.path, encoding, dialect)
    names = header.names
    if dialect.delimiter == WHITESPACE:
        read_whitespace_rows(con, f, encoding, names, dialect, max_line)
        return names
    before = _lines_before(dialect)
    try:
        _read_csv_files(con, [str(f.path)], encoding, header.width, dialect, max_line)
    except duckdb.Error as e:
        raise read_error(f, e) from None
    bad = con.sql(
        """SELECT line - $before AS rn, line, bool_or(error_type = 'INVALID ENCODING') AS bad_bytes,
                  """
        + f"{_ERROR_TYPE} AS error_type, {_ERROR_MESSAGE}".format(j="")
        + """ AS error_message,
                  any_value(csv_line) AS csv_line
           FROM _rj GROUP BY line HAVING """
        + _NOT_BLANK,
        params={"before": before},
    ).to_arrow_table()
    n_good = scalar(con, "SELECT count(*) FROM _read")
    records = n_good + bad.num_rows
    scans: dict[int, LineScan] = {}
    bad = with_raw_lines(con, [f.path], bad, "csv_line", before, scans)
    # Blank lines only shift the numbers of rows after a bad row. They need a scan of the lines only
    # when there is a bad row and the file has more lines than the header and its records; the scan
    # that read the raw text of rows rejected for their bytes serves (one scan of the file, not two).
    blanks, scan = None, scans.get(1)
    if bad.num_rows and (scan.count if scan else physical_lines(f.path)) != records + before:
        try:
            blanks = _blank_lines(f, records, before, scan)
        except (OSError, EOFError, zlib.error) as e:
            raise read_error(f, e) from None
    bad_numbers = number_rows(con, n_good, bad.column("rn").to_numpy(), blanks)
    con.register("_bad", bad.set_column(0, "rn", pa.array(bad_numbers, pa.int64())))
    con.execute(
        _csv_rows(header, numbered="(SELECT rn AS _row_number, * FROM _numbered)"),
        _csv_params(header, encoding, dialect, max_line),
    )
    con.unregister("_bad")
    drop_numbering(con)
    con.execute("DROP TABLE _read")
    return names


def _read_lines(
    con: duckdb.DuckDBPyConnection, f: LandedFile, encoding: str, max_line: int = MAX_RECORD_BYTES
) -> Callable[[], None]:
    """Read a file as lines into the view ``_lines(_row_number, line, _error)``, blank lines left out.

    A line whose bytes are not ``encoding`` is kept with an ``encoding`` error. ``_lines`` is a
    view (the lines are not copied once more); the returned function drops it and what it reads.
    """
    con.execute("DROP TABLE IF EXISTS _read; DROP TABLE IF EXISTS _lrj; DROP TABLE IF EXISTS _lrs")
    try:
        con.execute(
            sql("ingest/read/lines_of_file"),
            {"path": str(f.path), "encoding": encoding, **line_limits(max_line)},
        )
    except duckdb.Error as e:
        raise read_error(f, e) from None
    bad = con.sql("SELECT line AS rn, line, any_value(csv_line) AS raw FROM _lrj GROUP BY line")
    bad = with_raw_lines(con, [f.path], bad.to_arrow_table(), "raw")
    number_rows(con, scalar(con, "SELECT count(*) FROM _read"), bad.column("rn").to_numpy())
    if bad.num_rows:  # a view takes no parameters: the reason goes in a column of _bad
        reason = _encoding_reason(encoding)
        con.register("_bad", bad.append_column("error", pa.array([reason] * bad.num_rows, pa.string())))
        con.execute(sql("ingest/read/lines_view_with_bad"))
    else:  # the common case: one view, no union
        con.execute(sql("ingest/read/lines_view"))

    def drop() -> None:
        con.execute("DROP VIEW IF EXISTS _lines")
        con.unregister("_bad")
        drop_numbering(con)
        con.execute("DROP TABLE IF EXISTS _read")

    return drop


def read_whitespace_rows(
    con: duckdb.DuckDBPyConnection,
    f: LandedFile,
    encoding: str,
    names: list[str],
    dialect: CsvDialect,
    max_line: int = MAX_RECORD_BYTES,
) -> None:
    """Read a file whose values are separated by runs of spaces and tabs into ``_rows``."""
    drop = _read_lines(con, f, encoding, max_line)
    try:
        first = dialect.skip_rows
        if dialect.header:  # the header is the first line that holds text after the skipped ones
            first = scalar(con, "SELECT min(_row_number) FROM _lines WHERE _row_number > $s", {"s": first})
        values = ", ".join(f"__c[{i + 1}] AS {ident(n)}" for i, n in enumerate(names))
        con.execute(
            sql("ingest/read/whitespace_rows", fragments={"values": values}),
            {"first": first or 0, "n": len(names)},
        )
    finally:
        drop()


def read_jsonl_rows(
    con: duckdb.DuckDBPyConnection,
    f: LandedFile,
    encoding: str,
    names: list[str],
    nested: dict[str, str] | None = None,
    lists: Collection[str] | None = None,
    max_line: int = MAX_RECORD_BYTES,
) -> list[str]:
    """Read a JSON-lines file into ``_rows`` with one text column per name in ``names``.

    Each line must be a JSON object; a key that is absent or null is a missing value. Keys that
    are not declared are ignored. ``nested`` gives the JSON path inside objects where a name's
    value is found when the line has no key of that name (``{"a": {"b": 1}}`` for ``a__b``).
    """
    drop = _read_lines(con, f, encoding, max_line)
    try:
        _parse_json_lines(con, names, nested=nested, lists=lists)
    finally:
        drop()
    return names


def _parse_json_lines(
    con: duckdb.DuckDBPyConnection,
    names: list[str],
    carry: str = "",
    nested: dict[str, str] | None = None,
    lists: Collection[str] | None = None,
) -> None:
    """``_rows`` from the view ``_lines(<carry>, _row_number, line, _error)`` (see json_values)."""
    query, params = json_values(names, carry, nested, lists)
    con.execute(sql("ingest/read/json_lines", fragments={"query": query}), params)
    name_json_problems(con)


def read_parquet_rows(con: duckdb.DuckDBPyConnection, f: LandedFile, spec: TransactionSpec) -> list[str]:
    """Read a Parquet file (a remote query's Arrow batches, or a Parquet object) into ``_rows``;
    returns its columns that are not declared fields (kept as text with ``new_columns: evolve``).

    Typed Arrow columns become text in the form the field's type and format expect, so that
    typing and validation are the same as for CSV: a temporal column with a declared format is
    written in that format (or as epoch numbers for unix/unix_ms).
    """
    try:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet($p)", {"p": str(f.path)}).fetchall()
    except duckdb.Error as e:
        raise read_error(f, e) from None
    types = {r[0]: r[1] for r in described}
    declared = [x.name for x in spec.fields]
    missing = [n for n in declared if n not in types]
    extra = [n for n in types if n not in declared]
    if missing:
        raise IngestError(f"{f.name}: missing column(s) {missing}; the data has {list(types)}")
    if extra and spec.new_columns == "freeze":
        raise IngestError(
            f"{f.name}: column(s) {extra} are not declared fields of {spec.name!r}; "
            f"declare them under transactions[].fields or leave them out of the query "
            "(or set `new_columns: evolve` or `discard`)"
        )
    cols, params = [], {"p": str(f.path)}
    if spec.new_columns == "evolve":
        cols += [f"{ident(n)}::VARCHAR AS {ident(n)}" for n in extra]
    for i, x in enumerate(spec.fields):
        c, t = ident(x.name), types[x.name].upper()
        temporal = t.startswith(("TIMESTAMP", "DATE"))
        if temporal and x.format in EPOCH_FORMATS:
            cols.append(
                f"CAST(floor(epoch_ms({c}::TIMESTAMP) * {EPOCH_FORMATS[x.format]} / 1000) AS BIGINT)"
                f"::VARCHAR AS {c}"
            )
        elif temporal and x.format:
            cols.append(f"strftime({c}::TIMESTAMP, $fmt{i}) AS {c}")
            params[f"fmt{i}"] = to_strptime(x.format)
        elif x.type == FieldType.Int and t.startswith(("FLOAT", "DOUBLE", "DECIMAL")):
            # a whole number is the Int (pandas writes an integer column with missing values as doubles)
            whole = f"{c} = trunc({c}) AND abs({c}) < 9223372036854775807"
            cols.append(f"CASE WHEN {whole} THEN CAST({c} AS BIGINT)::VARCHAR ELSE {c}::VARCHAR END AS {c}")
        else:
            cols.append(f"{c}::VARCHAR AS {c}")
    try:
        con.execute(
            sql("ingest/read/parquet_rows", fragments={"columns": ", ".join(cols)}),
            params,
        )
    except duckdb.Error as e:
        raise read_error(f, e) from None
    return extra


def check_readable(f: LandedFile) -> None:
    """Fail a file that is empty or UTF-16 (read_errors.check_not_utf16)."""
    if f.path.stat().st_size == 0:
        raise IngestError(f"{f.name}: the file is empty (0 bytes): nothing was loaded")
    check_not_utf16(f)


def check_json_lines(f: LandedFile) -> None:
    opener = gzip.open if f.name.lower().endswith(".gz") else open
    with opener(f.path, "rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        raise IngestError(
            f"{f.name}: the file is one JSON array; Nightjar reads JSON lines (one object per line)"
        )


def _file_blocks(con: duckdb.DuckDBPyConnection, n_files: int) -> tuple[np.ndarray, np.ndarray]:
    """The number of records of each file in ``_read`` and the rowid of its first, checking that the
    reader kept each file's records together and in the order of its paths (the numbering relies on it)."""
    rows = con.execute(
        "SELECT file_index, count(*), min(rowid), max(rowid) FROM _read GROUP BY file_index"
    ).fetchall()
    counts, first = np.zeros(n_files, dtype=np.int64), np.zeros(n_files, dtype=np.int64)
    expect, last = 0, -1
    for i, n, lo, hi in sorted(rows, key=lambda r: r[2]):  # one row per file
        if not 0 <= i < n_files or i <= last or lo != expect or hi - lo + 1 != n:
            raise NotBatchable(f"the reader did not return file {i + 1} of the batch as one block, in order")
        counts[i], first[i], expect, last = n, lo, hi + 1, i
    return counts, first


# ``_read`` with each record's file (1-based) and record number (made by _number_batch)
_NUMBERED = """(SELECT m._file, coalesce(n.rn, r.rowid - m.lo + 1) AS _row_number, r.*
               FROM _read r JOIN _filemap m USING (file_index) LEFT JOIN _nums n ON n.pos = r.rowid)"""


def _number_batch(
    con: duckdb.DuckDBPyConnection, files: list[LandedFile], bad: pa.Table, blanks_of: Callable | None
) -> pa.Table:
    """Number the good records of ``_read`` per file (see ``_NUMBERED``) and return ``bad`` with
    its ``rn`` turned into record numbers.

    A file without bad rows is numbered in SQL (its records follow the file order); the good records
    of a file with some get their numbers in ``_nums(pos, rn)`` (pos = rowid in ``_read``).
    ``bad`` has ``_file`` (1-based) and ``rn`` (the reader's line position); ``blanks_of(i,
    records)`` (i: the file's 0-based position) gives the blank-line positions of a file with bad
    rows, or None.
    """
    counts, first = _file_blocks(con, len(files))
    bad_file = bad.column("_file").to_numpy()
    bad_rn = bad.column("rn").to_numpy().astype(np.int64)
    numbered = bad_rn.copy()
    pos_parts, rn_parts = [np.array([], np.int64)], [np.array([], np.int64)]
    for i in range(len(files)):  # a loop over the files, not over rows
        mask = bad_file == i + 1
        if not mask.any():
            continue
        blanks = blanks_of(i, int(counts[i] + mask.sum())) if blanks_of else None
        good, numbered[mask] = record_numbers(int(counts[i]), bad_rn[mask], blanks)
        pos_parts.append(first[i] + np.arange(len(good), dtype=np.int64))
        rn_parts.append(good)
    filemap = pa.table(
        {
            "file_index": np.arange(len(files), dtype=np.int64),
            "_file": np.arange(1, len(files) + 1, dtype=np.int32),
            "lo": first,
        }
    )
    nums = pa.table({"pos": np.concatenate(pos_parts), "rn": np.concatenate(rn_parts)})
    for name, t in (("_filemap", filemap), ("_nums", nums)):
        con.register(name + "_arrow", t)
        try:
            con.execute(sql("core/table_from_arrow", idents={"table": name, "arrow": name + "_arrow"}))
        finally:
            con.unregister(name + "_arrow")
    return bad.set_column(bad.schema.get_field_index("rn"), "rn", pa.array(numbered, pa.int64()))


def read_csv_batch(
    con: duckdb.DuckDBPyConnection,
    files: list[LandedFile],
    encoding: str,
    names: list[str],
    dialect: CsvDialect = DEFAULT_DIALECT,
    max_line: int = MAX_RECORD_BYTES,
    type_lines: Callable[[str, dict], None] | None = None,
    lines_of: Callable[[int], int | None] | None = None,
) -> None:
    """Read CSV files with the same header into ``_rows`` (``_file`` = 1-based position in ``files``);
    with ``type_lines`` call ``type_lines(query, params)`` with the query of their rows instead (the
    rows are then typed straight from the records read, never made into a table of their own).
    ``lines_of(i)``: the line count of the i-th file (0-based) when it was counted already (see
    physical_lines), asked only for a file with rejected records. The files share their header
    (``names``, and whether it ends with the delimiter: file_header)."""
    paths = [str(f.path) for f in files]
    before = _lines_before(dialect)
    header = Header(names, file_header(files[0].path, encoding, dialect).trailing)
    _read_csv_files(con, paths, encoding, header.width, dialect, max_line)
    bad = con.sql(
        """SELECT list_position($paths, s.file_path)::INTEGER AS _file, j.line - $before AS rn, j.line,
                  bool_or(j.error_type = 'INVALID ENCODING') AS bad_bytes,
                  """
        + f"{_ERROR_TYPE} AS error_type, {_ERROR_MESSAGE}".format(j="j.")
        + """ AS error_message,
                  any_value(j.csv_line) AS csv_line
           FROM _rj j JOIN _rs s USING (scan_id, file_id) GROUP BY ALL HAVING """
        + _NOT_BLANK
        + " ORDER BY 1, 2",
        params={"paths": paths, "before": before},
    ).to_arrow_table()

    scans: dict[int, LineScan] = {}
    bad = with_raw_lines(con, [f.path for f in files], bad, "csv_line", before, scans)

    def blanks_of(i: int, records: int) -> np.ndarray | None:
        # Blank lines only shift the numbers of rows after a bad row: a scan of the lines only when
        # the file has more lines than the header and its records, the one with_raw_lines made if any.
        f, scan = files[i], scans.get(i + 1)
        lines = scan.count if scan else lines_of(i) if lines_of else physical_lines(f.path)
        if lines == records + before:
            return None
        return _blank_lines(f, records, before, scan)

    bad = _number_batch(con, files, bad, blanks_of)
    con.register("_bad", bad)
    params = _csv_params(header, encoding, dialect, max_line)
    try:
        if type_lines is None:
            con.execute(_csv_rows(header, numbered=_NUMBERED, carry="_file, "), params)
        else:
            type_lines(_csv_values(header, numbered=_NUMBERED, carry="_file, "), params)
    finally:
        con.unregister("_bad")
        con.execute("DROP TABLE _read; DROP TABLE _nums; DROP TABLE _filemap")


def read_jsonl_batch(
    con: duckdb.DuckDBPyConnection,
    files: list[LandedFile],
    encoding: str,
    names: list[str],
    type_lines: Callable[[str, dict], None],
    nested: dict[str, str] | None = None,
    lists: Collection[str] | None = None,
    max_line: int = MAX_RECORD_BYTES,
) -> None:
    """Read JSON-lines files (``_file`` = 1-based position in ``files``) as read_jsonl_rows does for
    one file, and call ``type_lines(query, params)`` with the query of their rows: the rows are typed
    straight from the lines read, never made into a table of their own."""
    paths = [str(f.path) for f in files]
    con.execute("DROP TABLE IF EXISTS _read; DROP TABLE IF EXISTS _lrj; DROP TABLE IF EXISTS _lrs")
    con.execute(
        sql("ingest/read/lines_of_files"),
        {"paths": paths, "encoding": encoding, **line_limits(max_line)},
    )
    bad = con.sql(
        """SELECT list_position($paths, s.file_path)::INTEGER AS _file, j.line AS rn, j.line,
                  any_value(j.csv_line) AS raw
           FROM _lrj j JOIN _lrs s USING (scan_id, file_id) GROUP BY ALL ORDER BY 1, 2""",
        params={"paths": paths},
    ).to_arrow_table()
    bad = _number_batch(con, files, bad, None)
    bad = with_raw_lines(con, [f.path for f in files], bad, "raw")
    # a view takes no parameters: the reason goes in a column of _bad
    reason = _encoding_reason(encoding)
    con.register("_bad", bad.append_column("error", pa.array([reason] * bad.num_rows, pa.string())))
    # a view, not a copy of the lines
    con.execute(sql("ingest/read/lines_of_batch", fragments={"numbered": _NUMBERED}))
    try:
        type_lines(*json_values(names, carry="_file, ", nested=nested, lists=lists))
    finally:
        con.execute("DROP VIEW _lines; DROP TABLE _read; DROP TABLE _nums; DROP TABLE _filemap")
        con.unregister("_bad")


def drop_batch_tables(con: duckdb.DuckDBPyConnection) -> None:
    """What a batch that failed half-way may have left (the one-file path makes a view ``_lines``)."""
    con.execute("DROP VIEW IF EXISTS _lines")
    con.unregister("_bad")
    for name in ("_nums", "_filemap", "_read"):
        con.execute(sql("core/drop_table", idents={"table": name}))
