"""Metadata a run shows in the Dagster UI: column schemas, Markdown tables and previews."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import dagster as dg
import duckdb

from pipeline.core.sql import sql


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-style Markdown table; cells are shortened and pipes escaped."""

    def cell(v: object) -> str:
        text = "" if v is None else str(v)
        text = text.replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= 60 else text[:57] + "..."

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def column_schema(
    con: duckdb.DuckDBPyConnection, table: str, descriptions: dict[str, str] | None = None
) -> dg.TableSchema:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position",
        [table],
    ).fetchall()
    descriptions = descriptions or {}
    return dg.TableSchema(
        columns=[dg.TableColumn(name=n, type=t, description=descriptions.get(n)) for n, t in rows]
    )


def preview(
    con: duckdb.DuckDBPyConnection, table: str, partition: dt.date | None = None, limit: int = 5
) -> str:
    """The first rows of a table (of one daily partition, when given) as Markdown."""
    query = sql("core/preview_partition" if partition else "core/preview", idents={"table": table})
    rel = con.execute(query, {"n": limit, **({"d": partition} if partition else {})})
    headers = [d[0] for d in rel.description]
    return markdown_table(headers, rel.fetchall())
