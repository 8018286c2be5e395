"""Exports: one day's rows of a table as a CSV, Parquet or JSON lines file, written to a local file or
to a configured SFTP / GCS source (pipeline/activation/destinations.py).

`nightjar export TABLE --date D --to DEST` and the `export_<name>` assets (the config's `exports:`)
call the same :func:`export_to`, so a destination receives the same bytes from either for the same
day of rows (the asset's partition N writes the rows of :func:`export_day`: for ``results`` N + 1).
Tables: ``results`` (with each variant's code, category and message), ``predictions``,
``recommendations``, ``attribution`` (the credits) and ``conversions``; the queries are in
sql/activation/export/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import os
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipeline.activation.bigquery import as_utc
from pipeline.activation.config import ActivationConfig, ExportSpec, WhereRule, twice_given
from pipeline.activation.staging import staging
from pipeline.core.rules import Params, RuleError, compile_all, condition
from pipeline.core.settings import FieldType
from pipeline.core.sql import bind, ident, sql
from pipeline.core.warehouse import table_exists
from pipeline.experiments.decisions import presentation_day

# the warehouse table each export reads
SOURCE_TABLES = {
    "results": "results",
    "predictions": "predictions",
    "recommendations": "predictions",
    "attribution": "attribution_credits",
    "conversions": "conversions",
    "segments": "predictions",
}
VARIANTS = "_variants"


class ExportError(RuntimeError):
    """Nothing to export, or the destination cannot be written; nothing was written."""


class NothingToExport(ExportError):
    """The table has no rows for the day (a night without decisions, say)."""


# a DuckDB column type (its name's start) -> the rule field type of a `where` rule over it
RULE_TYPES = {
    "VARCHAR": FieldType.String,
    "BIGINT": FieldType.Int,
    "INTEGER": FieldType.Int,
    "HUGEINT": FieldType.Int,
    "DOUBLE": FieldType.Float,
    "FLOAT": FieldType.Float,
    "DECIMAL": FieldType.Decimal,
    "BOOLEAN": FieldType.Bool,
    "DATE": FieldType.Date,
    "TIMESTAMP": FieldType.Timestamp,
}


def _described(con: duckdb.DuckDBPyConnection, query: str, params: dict) -> dict[str, str]:
    """The columns of ``query`` and their DuckDB types, in order."""
    q = sql("activation/export/describe", fragments={"query": query})
    return {d[0]: str(d[1]) for d in con.execute(q, bind(q, params)).description}


def rule_schema(types: dict[str, str]) -> dict[str, FieldType]:
    """The columns a `where` rule may test (lists cannot be) and their rule types."""
    out = {}
    for column, kind in types.items():
        base = kind.split("(")[0].upper()
        if not kind.endswith("]") and base in RULE_TYPES:
            out[column] = RULE_TYPES[base]
    return out


def export_query(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[str] | None = None,
    where: list[WhereRule] | None = None,
) -> tuple[str, dict]:
    """The query of export ``table`` (its rows of ``$day``) kept to the rows every ``where`` rule holds
    for and to ``columns``; with the rules' bound values."""
    query, params = sql(f"activation/export/{table}"), dict[str, object]()
    if not columns and not where:
        return query, params
    types = _described(con, query, {"day": dt.date(1, 1, 1)})
    if where:
        schema, values, conds = rule_schema(types), Params("w"), []
        for i, r in enumerate(where):
            try:
                conds.append(condition(r.field, r.op, r.value, schema))
            except RuleError as e:
                raise ExportError(f"where[{i}].{e.key}: {e} (rules test the columns of {table})") from None
        fragments = {"query": query, "condition": compile_all(conds, values)}
        query = sql("activation/export/where", fragments=fragments)
        params = values.values
    if columns:
        if twice := twice_given(columns):
            raise ExportError(f"{table}: {twice} in the columns")
        if unknown := [c for c in columns if c not in types]:
            raise ExportError(
                f"{table} has no column(s) {', '.join(unknown)} (its columns: {', '.join(types)})"
            )
        query = sql(
            "activation/export/select_columns",
            fragments={"columns": ", ".join(map(ident, columns)), "query": query},
        )
    return query, params


def _variants(config: ActivationConfig) -> pa.Table:
    return pa.table(
        {
            "name": [v.name for v in config.variants],
            "code": pa.array([v.code for v in config.variants], pa.string()),
            "category": pa.array([v.category for v in config.variants], pa.string()),
            "message": [v.message for v in config.variants],
        }
    )


def write_export(
    con: duckdb.DuckDBPyConnection,
    config: ActivationConfig,
    table: str,
    day: dt.date,
    path: Path,
    fmt: str = "csv",
    columns: list[str] | None = None,
    where: list[WhereRule] | None = None,
    empty: bool = False,
) -> int:
    """Write the ``day`` rows of export ``table`` (those every ``where`` rule holds for) to ``path``
    (replaced whole); returns the rows. A day without rows raises :class:`NothingToExport`, or with
    ``empty`` writes a file without rows (CSV: the header; JSON lines: no line; Parquet: the columns).

    CSV (DuckDB's writer): header first, every value as DuckDB writes it as text, a list as its JSON
    array (both as in JSON lines), quoted where it holds a comma, a quote or a line break; Parquet: the
    columns' types, timestamps as UTC (``timestamp[us, tz=UTC]``, isAdjustedToUTC); JSON lines: one
    object per row.
    The rows written are counted back from the file (the row-count check).
    """
    if table not in SOURCE_TABLES:
        raise ExportError(f"cannot export {table!r}: use one of {', '.join(SOURCE_TABLES)}")
    if not table_exists(con, SOURCE_TABLES[table]):
        raise ExportError(f"there is no {SOURCE_TABLES[table]} table yet: run its asset first")
    partial = path.with_name(f".{path.name}.partial")
    con.register(VARIANTS, _variants(config))
    try:
        query, params = export_query(con, table, columns, where)
        params = {**params, "day": day}
        if fmt == "jsonl":
            query = sql("activation/export/as_json_lines", fragments={"query": query})
            lines = con.execute(query, bind(query, params))
            text = "".join(r[0] + "\n" for r in lines.fetchall())
            rows = text.count("\n")
        elif fmt == "csv":  # DuckDB's own writer, straight into the file: values as JSON lines writes them
            path.parent.mkdir(parents=True, exist_ok=True)
            lists = [c for c, kind in _described(con, query, params).items() if kind.endswith("]")]
            as_json = ", ".join(f"to_json({ident(c)})::VARCHAR AS {ident(c)}" for c in lists)
            fragments = {"query": query, "lists": f" REPLACE ({as_json})" if lists else ""}
            query = sql("activation/export/as_csv", fragments=fragments)
            ((rows,),) = con.execute(query, bind(query, {**params, "path": str(partial)})).fetchall()
        else:
            arrow = con.sql(query, params=bind(query, params)).to_arrow_table()
            rows = arrow.num_rows
    finally:
        con.unregister(VARIANTS)
    if not rows and not empty:
        partial.unlink(missing_ok=True)
        raise NothingToExport(nothing_to_export(table, day, config.start_date))
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        partial.write_text(text, encoding="utf-8")
    elif fmt == "parquet":
        pq.write_table(as_utc(arrow), partial)  # the warehouse's UTC timestamps, marked as UTC
    if (written := count_rows(partial, fmt)) != rows:
        partial.unlink()
        raise ExportError(f"{path.name}: {written} rows written, {rows} expected")
    os.replace(partial, path)
    return rows


def count_rows(path: Path, fmt: str) -> int:
    """The rows of an export file, read back (CSV quoted line breaks count once, wherever the reader's
    blocks of the file end; an empty line is a row: a one-column row whose value is empty)."""
    if fmt == "parquet":
        return pq.read_metadata(path).num_rows
    if fmt == "jsonl":
        return path.read_bytes().count(b"\n")
    options = pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False)
    return pacsv.read_csv(path, parse_options=options).num_rows


def _deliver_local(partial: Path, to: Path, overwrite: bool) -> None:
    if overwrite:
        try:
            os.replace(partial, to)
        except OSError:
            partial.unlink()  # the night's rows are not left beside the destination
            raise
        return
    try:
        os.link(partial, to)  # fails, atomically, when `to` exists
    except FileExistsError:
        raise ExportError(
            f"{to} exists already and was left as it was (without --no-clobber it is replaced)"
        ) from None
    finally:
        partial.unlink()


def export_with(
    con: duckdb.DuckDBPyConnection,
    config: ActivationConfig,
    day: dt.date,
    to: str,
    table: str = "results",
    fmt: str = "csv",
    columns: list[str] | None = None,
    overwrite: bool = True,
    log=None,
    where: list[WhereRule] | None = None,
    empty: bool = False,
) -> tuple[int, str]:
    """Export the ``day`` rows of ``table`` over an open connection to ``to`` (a file path,
    sftp://<source>/<path> or gcs://<source>/<path>); returns (rows, where it went). A day without rows
    is :class:`NothingToExport`, or with ``empty`` a file without rows (a BigQuery table's day emptied)."""

    def reading() -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        return nullcontext(con)  # open already, and left open

    return _export(reading, config, day, to, table, fmt, columns, overwrite, log, where, empty)


def _export(
    reading: Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]],
    config: ActivationConfig,
    day: dt.date,
    to: str,
    table: str,
    fmt: str,
    columns: list[str] | None,
    overwrite: bool,
    log,
    where: list[WhereRule] | None,
    empty: bool,
) -> tuple[int, str]:
    """:func:`export_with` over the connection ``reading()`` opens while the file is written: it is closed
    before the file is delivered (an upload may take minutes; the warehouse has one writer or readers)."""
    from pipeline.activation.destinations import DestinationError, deliver, describe, parse_destination

    try:
        dest = parse_destination(to, config, day)
    except DestinationError as e:
        raise ExportError(str(e)) from None
    if dest.kind == "bigquery":
        fmt = "parquet"  # the rows are loaded from Parquet (the format of a file destination only)

    def write(local: Path) -> int:
        with reading() as con:
            return write_export(con, config, table, day, local, fmt, columns, where, empty)

    if not dest.remote:
        return _export_local(Path(dest.path), f"{table}.{fmt}", write, overwrite), describe(dest, config)
    # staged in the system's temporary folder under a name of the destination's: what a killed export
    # left there goes with the next export to the same destination
    digest = hashlib.sha256(f"{dest.kind}://{dest.source}/{dest.path}".encode()).hexdigest()[:16]
    with staging(Path(tempfile.gettempdir()), f"nightjar-export-{digest}") as folder:
        local = folder / dest.file_name
        rows = write(local)
        try:
            return rows, deliver(config, dest, local, overwrite, log=log, day=day)
        except DestinationError as e:
            raise ExportError(str(e)) from None


def _export_local(target: Path, example: str, write: Callable[[Path], int], overwrite: bool) -> int:
    """Write the file with ``write`` in a staging folder beside ``target`` (same file system), then move
    it into place; returns the rows. The folders created for it go again if the export fails."""
    if target.is_dir():
        raise ExportError(f"{target} is a folder: give the file to write (e.g. {target}/{example})")
    if blocked := next((p for p in target.parents if p.exists() and not p.is_dir()), None):
        raise ExportError(f"cannot write {target}: {blocked} is a file, not a folder")
    created = [p for p in (target.parent, *target.parent.parents) if not p.exists()]  # deepest first
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # a folder of its own: an export running at the same time never moves or truncates this one's file
        with staging(target.parent, target.name) as folder:
            rows = write(folder / target.name)
            _deliver_local(folder / target.name, target, overwrite)
        return rows
    except OSError as e:  # no permission, a full disk: one line, nothing left beside the target
        _remove_folders(created)
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from None
    except BaseException:
        _remove_folders(created)
        raise


def _remove_folders(folders: list[Path]) -> None:
    """Remove ``folders`` (deepest first) where empty: those an export that failed created."""
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def export_to(
    config: ActivationConfig,
    warehouse: Path,
    day: dt.date,
    to: str,
    overwrite: bool = True,
    log=None,
    table: str = "results",
    fmt: str = "csv",
    columns: list[str] | None = None,
) -> tuple[int, str]:
    """:func:`export_with` over the warehouse, open read-only only while the file is written."""
    from pipeline.core.warehouse import connect

    reading = functools.partial(connect, warehouse, read_only=True)
    return _export(reading, config, day, to, table, fmt, columns, overwrite, log, None, False)


def nothing_to_export(table: str, day: dt.date, start: dt.date) -> str:
    """Why ``table`` has no rows of ``day`` to export: its partition (for `results` the night before
    ``day``) is to be materialized, or no partition writes that day (before the first: ``start``'s)."""
    first = export_day(table, start)
    if day < first:
        decided = f" (decided on the night of {start})" if first != start else ""
        return f"no {table} for {day}: no partition writes it, the first day of {table} is {first}{decided}"
    before = day - dt.timedelta(days=1)
    night = f"the partition of the night before, {before}," if table == "results" else ""
    return f"no {table} for {day}: materialize {night or 'that partition'} first"


def export_day(table: str, night: dt.date) -> dt.date:
    """The day of ``table``'s rows that the partition ``night`` of an export writes: for `results` the
    decisions that night made, presented the next day (``presentation_day``); for every other table
    the night's own day."""
    return presentation_day(night) if table == "results" else night


def run_export(
    con: duckdb.DuckDBPyConnection, config: ActivationConfig, spec: ExportSpec, day: dt.date, log=None
) -> tuple[int, str]:
    """One night of a configured export (the `export_<name>` asset): replaces that night's file, by one
    without rows (a BigQuery table's day emptied) for a night without rows, so a re-run of a night whose
    rows went leaves none of an earlier run's rows at the destination."""
    to = spec.destination
    if "://" not in to:  # a local file of the config is relative to the config's folder
        to = str(config.resolve(Path(to)))
    try:
        return export_with(
            con, config, day, to, spec.table, spec.format, spec.columns, log=log, where=spec.where, empty=True
        )
    except ExportError as e:
        if str(e).startswith("where["):  # the rule's key path in the config
            raise ExportError(f"exports[{config.exports.index(spec)}].{e}") from None
        raise
