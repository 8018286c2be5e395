"""Metadata a run shows in the Dagster UI: column schemas, Markdown tables and previews."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import dagster as dg
import duckdb

from pipeline.core.sql import ident, sql


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-style Markdown table; cells are shortened and pipes escaped."""

    def cell(v: object) -> str:
        text = "" if v is None else str(v)
        text = text.replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= 60 else text[:57] + "..."

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(name, type) of each column of a table, in order."""
    return con.execute(sql("core/columns_of"), {"table": table}).fetchall()


def column_schema(
    con: duckdb.DuckDBPyConnection, table: str, descriptions: dict[str, str] | None = None
) -> dg.TableSchema:
    descriptions = descriptions or {}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=n, type=t, description=descriptions.get(n)) for n, t in columns_of(con, table)
        ]
    )


HIDDEN = "…"  # what a preview shows instead of an identifier


def preview(
    con: duckdb.DuckDBPyConnection,
    table: str,
    partition: dt.date | None = None,
    limit: int = 5,
    hidden: Iterable[str] = (),
) -> str:
    """The first rows of a table (of one daily partition, when given) as Markdown, the ``hidden``
    columns (identifiers) shown as "…": Dagster keeps run metadata for good, where forget cannot
    reach it, so no raw identifier is written there in the first place."""
    present = {name for name, _ in columns_of(con, table)}
    masked = [c for c in hidden if c in present]
    replace = f"REPLACE ({', '.join(f'$hidden AS {ident(c)}' for c in masked)})" if masked else ""
    query = sql(
        "core/preview_partition" if partition else "core/preview",
        idents={"table": table},
        fragments={"hidden": replace},
    )
    params = {"n": limit, **({"d": partition} if partition else {}), **({"hidden": HIDDEN} if masked else {})}
    rel = con.execute(query, params)
    headers = [d[0] for d in rel.description]
    return markdown_table(headers, rel.fetchall())
