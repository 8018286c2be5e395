"""`nightjar export results`: one night's decisions as a CSV in the shape of SPEC 3's results list."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from pipeline.resources.warehouse import table_exists
from pipeline.sql import sql

COLUMNS = ("customer_id", "experiment", "group", "date", "variant", "score", "reason")


class ExportError(RuntimeError):
    """Nothing to export, or the destination cannot be written; nothing was written."""


def export_results(con: duckdb.DuckDBPyConnection, day: dt.date, to: Path) -> int:
    """Write the ``day`` partition of `results` to ``to`` (CSV, header first); returns the rows.

    The file appears whole or not at all: it is written next to ``to`` and renamed into place.
    """
    if not table_exists(con, "results"):
        raise ExportError("there is no results table yet: run the results asset first")
    frame = con.execute(sql("experiments/export_results"), {"day": day}).df()
    if frame.empty:
        raise ExportError(f"no results for {day}: materialize the results partition {day} first")
    frame.columns = list(COLUMNS)
    to.parent.mkdir(parents=True, exist_ok=True)
    partial = to.with_name(to.name + ".partial")
    frame.to_csv(partial, index=False, float_format="%.6g", lineterminator="\n")
    os.replace(partial, to)
    return len(frame)
