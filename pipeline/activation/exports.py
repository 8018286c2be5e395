"""`nightjar export results`: one night's decisions as a CSV in the shape of the results list,
written to a local file or to a configured SFTP / GCS source (pipeline/activation/destinations.py)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import duckdb

from pipeline.activation.config import ActivationConfig
from pipeline.core.sql import sql
from pipeline.core.warehouse import table_exists

COLUMNS = ("customer_id", "experiment", "group", "date", "variant", "score", "reason")


class ExportError(RuntimeError):
    """Nothing to export, or the destination cannot be written; nothing was written."""


def export_results(con: duckdb.DuckDBPyConnection, day: dt.date, to: Path, overwrite: bool = True) -> int:
    """Write the ``day`` partition of `results` to ``to`` (CSV, header first); returns the rows.

    The file appears whole or not at all: it is written next to ``to`` and renamed into place.
    With ``overwrite=False`` an existing ``to`` is kept and ExportError raised.
    """
    if not table_exists(con, "results"):
        raise ExportError("there is no results table yet: run the results asset first")
    frame = con.execute(sql("activation/export_results"), {"day": day}).df()
    if frame.empty:
        raise ExportError(f"no results for {day}: materialize the results partition {day} first")
    frame.columns = list(COLUMNS)
    to.parent.mkdir(parents=True, exist_ok=True)
    partial = to.with_name(to.name + ".partial")
    frame.to_csv(partial, index=False, float_format="%.6g", lineterminator="\n")
    if overwrite:
        os.replace(partial, to)
    else:
        try:
            os.link(partial, to)  # fails, atomically, when `to` exists
        except FileExistsError:
            raise ExportError(
                f"{to} exists already and was left as it was (without --no-clobber it is replaced)"
            ) from None
        finally:
            partial.unlink()
    return len(frame)


def export_to(
    config: ActivationConfig, warehouse: Path, day: dt.date, to: str, overwrite: bool = True, log=None
) -> tuple[int, str]:
    """Export the ``day`` results to ``to`` (a file path, sftp://<source>/<path> or gcs://<source>/<path>);
    returns (rows, where it went). The warehouse is open (read-only) only while the CSV is written."""
    from pipeline.activation.destinations import DestinationError, deliver, describe, parse_destination
    from pipeline.core.warehouse import connect

    try:
        dest = parse_destination(to, config, day)
    except DestinationError as e:
        raise ExportError(str(e)) from None
    if not dest.remote:
        with connect(warehouse, read_only=True) as con:
            return export_results(con, day, Path(dest.path), overwrite), describe(dest, config)
    with tempfile.TemporaryDirectory(prefix="nightjar-export-") as tmp:
        local = Path(tmp) / dest.file_name
        with connect(warehouse, read_only=True) as con:
            rows = export_results(con, day, local)
        try:
            return rows, deliver(config, dest, local, overwrite, log=log)
        except DestinationError as e:
            raise ExportError(str(e)) from None
