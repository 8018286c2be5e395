"""Metadata a run shows in the Dagster UI: column schemas, Markdown tables and previews."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
import duckdb

from pipeline.sql import ident


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-style Markdown table; cells are shortened and pipes escaped."""

    def cell(v: object) -> str:
        text = "" if v is None else str(v)
        text = text.replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= 60 else text[:57] + "..."

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def column_schema(con: duckdb.DuckDBPyConnection, table: str, descriptions: dict[str, str] | None = None) -> dg.TableSchema:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    descriptions = descriptions or {}
    return dg.TableSchema(
        columns=[dg.TableColumn(name=n, type=t, description=descriptions.get(n)) for n, t in rows]
    )


def preview(con: duckdb.DuckDBPyConnection, table: str, where: str = "true", params: dict | None = None, limit: int = 5) -> str:
    """The first rows of a table (optionally of one partition) as Markdown."""
    rel = con.execute(f"SELECT * FROM {ident(table)} WHERE {where} LIMIT {int(limit)}", params or {})
    headers = [d[0] for d in rel.description]
    return markdown_table(headers, rel.fetchall())
