"""Dialects of delimited files: splitting a header line as the dataset declares, and saying which
option to set when a file does not fit; where a JSON text (or each bad JSON line) goes wrong."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

import duckdb
import pyarrow as pa

from pipeline.core.sql import sql
from pipeline.ingest.config import WHITESPACE, CsvDialect


def split_header(text: str, dialect: CsvDialect) -> list[str]:
    """The names of a header line in the dataset's dialect."""
    if dialect.delimiter == WHITESPACE:
        return text.split()
    return next(split_records([text], dialect), [])


def split_records(lines: Iterable[str], dialect: CsvDialect) -> Iterator[list[str]]:
    """The values of each record of ``lines`` (without their line ends; a quoted cell may span them)
    in the dataset's dialect, the delimiter one character (not ``whitespace``); an empty line is a
    record of no values. Raises csv.Error where the text does not fit the dialect."""
    quote = dialect.quote or None
    escape = dialect.escape_char if dialect.escape_char and dialect.escape_char != dialect.quote else None
    return csv.reader(
        lines,
        delimiter=dialect.delimiter,
        quotechar=quote,
        escapechar=escape,
        doublequote=bool(quote) and escape is None,
        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
        skipinitialspace=True,
    )


CANDIDATE_DELIMITERS = (";", "\t", "|", ",", WHITESPACE)


def _shown(delimiter: str) -> str:
    return "'\\t'" if delimiter == "\t" else repr(delimiter)


def dialect_hint(names: list[str], declared: list[str], dialect: CsvDialect) -> str | None:
    """What to set when the columns read do not fit the declared fields, or None: the delimiter
    (when one column was found and another delimiter splits it into the declared number), or
    ``header: false`` (when no declared field is in the header)."""
    if len(names) == 1 and len(declared) > 1:
        text = names[0]
        for d in CANDIDATE_DELIMITERS:
            n = len(text.split()) if d == WHITESPACE else len(text.split(d))
            if d != dialect.delimiter and n == len(declared):
                return (
                    f"1 column found where {len(declared)} were declared: is the delimiter {_shown(d)}? "
                    f"(set `delimiter: {_shown(d)}` for this dataset)"
                )
    if dialect.header and not {n.lower() for n in names} & {d.lower() for d in declared}:
        return (
            "no declared field is named in the header line: if the file has no header, set "
            "`header: false` and `columns: [...]` (the file's columns in order); if lines come "
            "before the header, set `skip_rows`"
        )
    if len(names) == 1 and len(declared) > 1:
        return (
            f"1 column found where {len(declared)} were declared: set `delimiter` for this dataset "
            "to the character that separates the values"
        )
    return None


def json_problem(text: str) -> str:
    """Where and why ``text`` is not valid JSON, as Python's parser says it (line and column)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        return f"{e.msg} at line {e.lineno} column {e.colno}"
    except RecursionError:
        return "nested too deeply"
    return "not valid JSON"


JSON_INVALID = "json: the line is not valid JSON"  # the reason json_values.sql gives (then named here)


def name_json_problems(con: duckdb.DuckDBPyConnection, typed: bool = False) -> None:
    """Each invalid JSON line of ``_rows`` (with ``typed``: of ``_typed``, which keeps the raw text of
    its rejected rows) gets its column and what is wrong in its reason. Python's parser is the one
    that says where: it reads the rejected lines only."""
    reason, table = ("_reason", "_typed") if typed else ("_error", "_rows")
    bad = con.sql(
        sql("ingest/read/json_invalid", idents={"table": table, "reason": reason}),
        params={"invalid": JSON_INVALID},
    ).fetchnumpy()
    if not len(bad["pos"]):
        return
    # the position within the line: "at line 1 column 17" -> "at column 17"
    reasons = [
        JSON_INVALID + ": " + json_problem(str(raw)).replace("at line 1 column", "at column")
        for raw in bad["_raw"]
    ]
    con.register("_json_problems", pa.table({"pos": bad["pos"], "reason": reasons}))
    try:
        con.execute(sql("ingest/read/json_problems", idents={"table": table, "reason": reason}))
    finally:
        con.unregister("_json_problems")
