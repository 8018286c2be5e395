"""Column types: a field whose declared type changed since its table was made.

A transaction table keeps the SQL type each column had when it was created. When the config
declares another type for a field (``String`` -> ``Decimal``, ``Int`` -> ``Decimal``, a Decimal's
``scale``...), the load's transaction converts the column (``ALTER COLUMN ... TYPE ... USING``)
when every value it holds converts exactly; otherwise the load fails with one line naming the
dataset, the field, both types and what to do, and nothing changes.

A value converts:

* from text (String) to another type as a file's value of that field would be typed (its
  ``format``, ``decimal_separator``): it converts when the typing would not reject it;
* to text (String), always (its SQL text: ``3.5000``, ``2026-01-31 09:00:00``);
* between other types, when the cast gives it back unchanged (``3.0000`` -> ``3`` converts,
  ``3.5000`` -> Int does not; a Timestamp converts to a Date at midnight only).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.core.sql import ident, sql
from pipeline.ingest.read_errors import IngestError
from pipeline.ingest.typing import SQL_TYPES, TypedColumn

# The strptime pattern of the column being converted is a session variable (an ALTER statement
# takes no bound parameters; SET VARIABLE does): sql/ingest/retype_pattern.sql.
PATTERN = "getvariable('nightjar_retype_pattern')"
TEXT = "VARCHAR"
DAYS_NAMED = 3  # the message names at most this many days holding values that do not convert


@dataclass(frozen=True)
class TypeChange:
    """A column of the table whose declared type is no longer the one it has."""

    column: TypedColumn
    old: str  # the table's SQL type, e.g. "VARCHAR"

    @property
    def new(self) -> str:
        return self.column.sql_type.upper()


def stored_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """The SQL type of each column of ``table`` (upper case), none when it does not exist."""
    rows = con.execute(sql("core/column_types"), {"table": table}).fetchall()
    return {name: data_type.upper() for name, data_type in rows}


def type_changes(con: duckdb.DuckDBPyConnection, table: str, columns: list[TypedColumn]) -> list[TypeChange]:
    """The ``columns`` the table has with another type than the one they are declared with now."""
    have = stored_types(con, table)
    return [
        TypeChange(c, have[c.name]) for c in columns if c.name in have and have[c.name] != c.sql_type.upper()
    ]


def converted(change: TypeChange) -> str:
    """SQL: the column's value in its new type (NULL for a value that does not convert)."""
    x = ident(change.column.name)
    if change.new == TEXT:
        return f"CAST({x} AS {TEXT})"
    if change.old == TEXT:  # as a file's value of the field is typed (values are stored trimmed)
        return change.column.cast(f"NULLIF(trim({x}), '')", PATTERN)
    return f"TRY_CAST({x} AS {change.new})"


def fails(change: TypeChange) -> str:
    """SQL: the value is present and does not convert (exactly) to the new type."""
    x, new = ident(change.column.name), converted(change)
    if change.new == TEXT:
        return "false"
    if change.old == TEXT:
        v = f"NULLIF(trim({x}), '')"
        return f"{v} IS NOT NULL AND ({change.column.fails(v, f'({new})')})"
    return f"{x} IS NOT NULL AND TRY_CAST(({new}) AS {change.old}) IS DISTINCT FROM {x}"


def type_name(sql_type: str) -> str:
    """A SQL type in the config's words: ``String (VARCHAR)``, ``Decimal (DECIMAL(18,4))``."""
    by_sql = {v: k.value for k, v in SQL_TYPES.items()}
    base = "DECIMAL" if sql_type.startswith("DECIMAL") else sql_type
    name = by_sql.get(base) or ("Decimal" if base == "DECIMAL" else None)
    return f"{name} ({sql_type})" if name else sql_type


def _set_pattern(con: duckdb.DuckDBPyConnection, change: TypeChange) -> bool:
    """Bind the strptime pattern the conversion of a text column uses, if any; whether it did."""
    if change.old != TEXT or change.column.pattern is None:
        return False
    con.execute(sql("ingest/retype_pattern"), {"pattern": change.column.pattern})
    return True


def _failing_days(con: duckdb.DuckDBPyConnection, table: str, change: TypeChange) -> tuple[int, list]:
    """How many values of the column do not convert, and the days (partitions) holding them."""
    query = sql("ingest/retype_failures", idents={"table": table}, fragments={"fails": fails(change)})
    n, days = con.execute(query).fetchall()[0]
    return n, days or []


def _message(dataset: str, table: str, change: TypeChange, n: int, days: list, by_key: bool) -> str:
    named = ", ".join(str(d) for d in days[:DAYS_NAMED])
    more = len(days) - DAYS_NAMED
    where = f"{named} and {more} other day(s)" if more > 0 else named
    old = type_name(change.old).split(" (")[0]
    fix = (
        f"declare it {old} again and load rows of the same keys with values that convert, then change it"
        if by_key
        else f"load those days again with the new type in one run (their rows are replaced), "
        f"or declare it {old} again"
    )
    return (
        f"{dataset}: field {change.column.name!r} changed type from {type_name(change.old)} to "
        f"{type_name(change.new)}, but {n} value(s) stored in {table} do not convert "
        f"(day(s) {where}): {fix}; nothing was loaded"
    )


def migrate_types(
    con: duckdb.DuckDBPyConnection, dataset: str, table: str, columns: list[TypedColumn], by_key: bool = False
) -> list[TypeChange]:
    """Convert the columns of ``table`` whose declared type changed (in the caller's transaction);
    raises IngestError, converting none, when a stored value of one of them does not convert.
    ``by_key``: the dataset upserts by key (its days are not replaced), for the message. Returns
    the changes made."""
    changes = type_changes(con, table, columns)
    bound = False
    for change in changes:  # the few columns whose type changed, not rows
        bound = _set_pattern(con, change) or bound
        n, days = _failing_days(con, table, change)
        if n:
            raise IngestError(_message(dataset, table, change, n, days, by_key))
    for change in changes:
        _set_pattern(con, change)
        con.execute(
            sql(
                "ingest/retype_column",
                idents={"table": table, "column": change.column.name},
                fragments={"type": change.new, "converted": converted(change)},
            )
        )
    if bound:  # (no pattern left behind for a later statement of the connection)
        con.execute(sql("ingest/retype_pattern"), {"pattern": None})
    return changes
