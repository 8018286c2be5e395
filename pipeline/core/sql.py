"""Access to the SQL files under sql/ and safe quoting of identifiers for generated SQL."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


@cache
def sql(name: str) -> str:
    """The text of sql/<name>.sql, e.g. sql("core/schema")."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def ident(name: str) -> str:
    """Quote an identifier for DuckDB. Names come from the validated config or a file header."""
    return '"' + name.replace('"', '""') + '"'


def bind(query: str, params: dict) -> dict:
    """The parameters a query uses (DuckDB refuses named parameters the query does not name)."""
    return {k: v for k, v in params.items() if re.search(rf"\${re.escape(k)}\b", query)}
