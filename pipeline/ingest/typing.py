"""Typing: text columns -> declared types, and a reason for every row that does not fit.

Each output column is a :class:`TypedColumn`: how its trimmed text value is cast (SQL over that
value) and when a present value counts as not fitting. :func:`type_rows` puts them into one
statement (sql/ingest/type_rows.sql) that makes ``_typed`` from ``_rows``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import duckdb

from pipeline.core.formats import EPOCH_FORMATS, to_strptime
from pipeline.core.settings import FieldType
from pipeline.core.sql import ident, sql
from pipeline.ingest.config import FieldSpec

SQL_TYPES = {
    FieldType.String: "VARCHAR",
    FieldType.Int: "BIGINT",
    FieldType.Decimal: "DECIMAL(18,4)",
    FieldType.Float: "DOUBLE",
    FieldType.Bool: "BOOLEAN",
    FieldType.Date: "DATE",
    FieldType.Timestamp: "TIMESTAMP",
}
DEFAULT_SCALE = 4


def sql_type(f: FieldSpec) -> str:
    """The SQL type of a declared field; a Decimal keeps its declared scale (default 4) with 14
    digits before the point (DECIMAL(18,4) by default)."""
    if f.type == FieldType.Decimal:
        scale = DEFAULT_SCALE if f.scale is None else f.scale
        return f"DECIMAL({14 + scale},{scale})"
    return SQL_TYPES[f.type]


INT_PATTERN = r"[+-]?[0-9]+"
NUMBER_PATTERN = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
# an ISO 8601 date or date-time without offset or zone
PLAIN_ISO_PATTERN = (
    r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
    r"([ T][0-9][0-9]:[0-9][0-9]:[0-9][0-9](\.[0-9]([0-9]?[0-9]?[0-9]?[0-9]?[0-9]?))?)?"
)
CUSTOMER_ID_COLUMNS = ("customuid", "emailsha256", "idfa", "dmpid")
CUSTOMER_PREFIXES = ("txt_", "num_", "attr_", "goal_")
MULTI_VALUE_COLUMNS = ("emailsha256", "idfa", "dmpid")

# In type_rows' extra checks: the row is good so far (no reader error, every value fits its column);
# the column type_rows.sql computes
GOOD = "__good"
# SQL over the trimmed, NULL-if-empty text value and the parameter holding the column's strptime
# pattern -> the typed value
Cast = Callable[[str, str], str]
# SQL over the text value and the typed value -> true when a present value does not cast
Fails = Callable[[str, str], str]


def as_text(v: str, pattern: str) -> str:
    return v


def did_not_cast(v: str, typed: str) -> str:
    return f"{typed} IS NULL"


def never(v: str, typed: str) -> str:
    return "false"


@dataclass
class TypedColumn:
    """One output column: its SQL type, the cast of its text value and the reject test."""

    name: str
    sql_type: str
    cast: Cast
    fails: Fails
    expected: str  # what the value should have been, for the reason text
    required: bool = False
    pattern: str | None = None  # a strptime pattern the cast uses, bound as a parameter


def _matches(v: str, pattern: str, then: str) -> str:
    """SQL: ``then`` when the text value ``v`` matches the regular expression, else NULL."""
    return f"CASE WHEN regexp_full_match({v}, '{pattern}') THEN {then} END"


def _time_cast(f: FieldSpec) -> tuple[Cast, str]:
    """The cast of a Date/Timestamp field and the words for the reason."""
    target = "DATE" if f.type == FieldType.Date else "TIMESTAMP"
    fmt = f.format
    if fmt in EPOCH_FORMATS:
        div = EPOCH_FORMATS[fmt]
        return (
            lambda v, p: f"try(CAST(to_timestamp(TRY_CAST({v} AS DOUBLE) / {div}) AS {target}))",
            f"a {f.type.value} in {fmt} time",
        )
    if fmt and any(z in to_strptime(fmt) for z in ("%z", "%Z")):
        return (
            lambda v, p: f"try(CAST(CAST(try_strptime({v}, {p}) AS TIMESTAMPTZ) AS {target}))",
            f"a {f.type.value} in format {fmt}",
        )
    if fmt:  # no time zone in the format: the parsed time is the time (no round trip through TIMESTAMPTZ)
        return lambda v, p: f"CAST(try_strptime({v}, {p}) AS {target})", f"a {f.type.value} in format {fmt}"

    # ISO 8601 with or without an offset. A value with no offset or zone at all (the common case) is
    # cast straight to TIMESTAMP: the same time (the session's time zone is UTC), without the far
    # slower TIMESTAMPTZ cast, which every other value still goes through.
    def iso(v: str, p: str) -> str:
        with_tz = f"try(CAST(TRY_CAST({v} AS TIMESTAMPTZ) AS {target}))"
        return (
            f"CASE WHEN regexp_full_match({v}, '{PLAIN_ISO_PATTERN}') "
            f"THEN TRY_CAST(TRY_CAST({v} AS TIMESTAMP) AS {target}) ELSE {with_tz} END"
        )

    return iso, f"an ISO 8601 {f.type.value}"


def _bool(v: str, p: str) -> str:
    # list_contains, not IN: DuckDB plans an IN list of five constants as a join (two per Bool field)
    return (
        f"CASE WHEN list_contains(['true', 't', '1', 'yes', 'y'], lower({v})) THEN true "
        f"WHEN list_contains(['false', 'f', '0', 'no', 'n'], lower({v})) THEN false END"
    )


def _comma_decimal(point: Cast) -> Cast:
    """The cast of a number written with ``,`` as its decimal separator, from ``point``, the cast of
    one written with ``.``: a value with a ``.`` does not cast (``1.234`` may mean 1234)."""

    def cast(v: str, p: str) -> str:
        with_point = f"replace({v}, ',', '.')"
        return f"CASE WHEN NOT contains({v}, '.') THEN {point(with_point, p)} END"

    return cast


def field_column(f: FieldSpec, required: bool, decimal_comma: bool = False) -> TypedColumn:
    """How a declared transaction field is typed and validated; with ``decimal_comma`` a Decimal or
    Float is written with ``,`` as its decimal separator (``3,50``) and a value with a ``.`` does not
    fit (``1.234`` is not read as 1.234 when it may mean 1234)."""
    cast: Cast
    if f.type in (FieldType.Date, FieldType.Timestamp):
        cast, expected = _time_cast(f)
    elif f.type == FieldType.Bool:
        cast, expected = _bool, "a Bool (true/false, 1/0, yes/no)"
    elif f.type == FieldType.String:
        cast, expected = as_text, "a String"
    elif f.type == FieldType.Int:
        cast, expected = (lambda v, p: _matches(v, INT_PATTERN, f"TRY_CAST({v} AS BIGINT)")), "an Int"
    else:
        to_type = sql_type(f)
        cast = lambda v, p: _matches(v, NUMBER_PATTERN, f"TRY_CAST({v} AS {to_type})")  # noqa: E731
        expected = f"a {f.type.value}"
        if decimal_comma:
            cast = _comma_decimal(cast)
            expected += " with ',' as its decimal separator"
    pattern = to_strptime(f.format) if f.format and f.format not in EPOCH_FORMATS else None
    return TypedColumn(f.name, sql_type(f), cast, did_not_cast, expected, required, pattern)


def string_column(name: str) -> TypedColumn:
    """A column a file brought that no field declares, kept as text (``new_columns: evolve``)."""
    return TypedColumn(name, "VARCHAR", as_text, never, "a String")


def split_values(column: str, lower: bool = False) -> str:
    """SQL: the values of a multi-value cell ("a, b") as a list, trimmed (and lower-cased), empties
    dropped; NULL (a missing value) when the cell holds no value at all (``" , "``)."""
    value = "lower(trim(x))" if lower else "trim(x)"
    values = f"list_filter(list_transform(string_split({column}, ','), lambda x: {value}), lambda x: x <> '')"
    return f"NULLIF({values}, [])"


def _seconds(v: str) -> str:
    return _matches(v, INT_PATTERN, f"TRY_CAST({v} AS BIGINT)")


def customer_column(name: str) -> TypedColumn:
    """How a customer column is typed, decided by its name."""
    if name == "customuid":
        return TypedColumn(name, "VARCHAR", as_text, never, "a String", required=True)
    if name in MULTI_VALUE_COLUMNS:
        lower = name == "emailsha256"
        return TypedColumn(
            name, "VARCHAR", lambda v, p: f"array_to_string({split_values(v, lower)}, ',')", never, "a String"
        )
    if name.startswith("num_"):
        number = lambda v, p: _matches(v, NUMBER_PATTERN, f"TRY_CAST({v} AS DOUBLE)")  # noqa: E731
        return TypedColumn(name, "DOUBLE", number, did_not_cast, "a number")
    if name.startswith("attr_"):
        return TypedColumn(name, "VARCHAR[]", lambda v, p: split_values(v), never, "a list")
    if name.startswith("goal_") and name.endswith("_timestamp"):
        return TypedColumn(
            name,
            "TIMESTAMP",
            lambda v, p: (
                f"CASE WHEN {_seconds(v)} <> 0 THEN try(CAST(to_timestamp({_seconds(v)}) AS TIMESTAMP)) END"
            ),
            lambda v, typed: f"{typed} IS NULL AND {_seconds(v)} IS DISTINCT FROM 0",
            "unix seconds (or 0 or empty)",
        )
    if name.startswith("goal_"):
        goal = lambda v, p: (  # noqa: E731
            f"CASE WHEN lower({v}) IN ('1', '1.0', 'true') THEN true "
            f"WHEN lower({v}) IN ('0', '0.0', 'false') THEN false END"
        )
        return TypedColumn(name, "BOOLEAN", goal, did_not_cast, "1, 0 or empty")
    return TypedColumn(name, "VARCHAR", as_text, never, "a String")  # txt_*


def can_fail(c: TypedColumn) -> bool:
    """Whether a present value of the column can be rejected: not a text column's (its value is its
    text, so ``did_not_cast`` never holds for it)."""
    return c.fails is not never and not (c.cast is as_text and c.fails is did_not_cast)


def _trimmed(x: str) -> str:
    """SQL: ``NULLIF(trim(x), '')``, trimming only a value that starts or ends with a space."""
    return (
        f"CASE WHEN starts_with({x}, ' ') OR ends_with({x}, ' ') THEN NULLIF(trim({x}), '') "
        f"ELSE NULLIF({x}, '') END"
    )


def type_rows(
    con: duckdb.DuckDBPyConnection,
    columns: list[TypedColumn],
    extra_checks: Sequence[tuple[str, str, str]] = (),
    extra_params: dict | None = None,
    carry: tuple[str, ...] = (),
    null_values: Sequence[str] = (),
    raw_of: Sequence[str] | None = None,
    rows: str = "_rows",
    trimmed: Collection[str] = (),
) -> None:
    """Create ``_typed`` from ``_rows``: typed columns, ``_reason`` (NULL = good) and ``_field``.

    ``extra_checks`` are (field, SQL condition over typed columns that marks a bad row, SQL reason),
    with the parameters they use in ``extra_params``; they may use ``GOOD`` (true for a row that
    neither the reader nor its own values reject), e.g. to compare a row with the good rows only.
    ``carry`` are columns of ``_rows`` kept as they are (and usable in the checks), e.g. ``_file``
    when several files are typed at once;
    a trimmed value in ``null_values`` is a missing value. With ``raw_of`` (the text columns of
    ``_rows``, in their order) ``_typed`` also has ``_raw``, the raw text of each rejected row: its
    ``_raw`` in ``_rows``, else its text values as JSON (NULL for a good row). ``rows`` is the query
    of the rows to type when they are not in ``_rows`` (the query's parameters in ``extra_params``).
    The text columns named in ``trimmed`` come trimmed already (JSON lines: json_values trims them):
    only an empty one becomes NULL.
    """

    def trim(c: TypedColumn) -> str:
        x = ident(c.name)
        t = f"NULLIF({x}, '')" if c.name in trimmed else _trimmed(x)
        return f"CASE WHEN list_contains($null_values, {t}) THEN NULL ELSE {t} END" if null_values else t

    trims = ", ".join(f"{trim(c)} AS {ident('__v_' + c.name)}" for c in columns)
    casts = ", ".join(
        f"{c.cast(ident('__v_' + c.name), f'$pattern{i}')} AS {ident(c.name)}" for i, c in enumerate(columns)
    )
    reasons, labels = [], []
    params: dict = dict(extra_params or {})
    for i, c in enumerate(columns):
        v, typed = ident("__v_" + c.name), ident(c.name)
        branches = []
        if can_fail(c):
            text = f"$name{i} || ': ' || '''' || left({v}, 80) || ''' is not ' || $expected{i}"
            branches.append(f"WHEN {v} IS NOT NULL AND ({c.fails(v, typed)}) THEN {text}")
            params[f"expected{i}"] = c.expected
        if c.required:
            branches.append(f"WHEN {v} IS NULL THEN $name{i} || ': missing (required)'")
        if branches:  # a text column that may be missing has no reason at all (no CASE per row)
            reasons.append(f"CASE {' '.join(branches)} END")
            labels.append(f"$name{i}")
            params[f"name{i}"] = c.name
    if not reasons:  # no value can reject a row (each SELECT of type_rows.sql adds one reason at least)
        reasons, labels = ["NULL::VARCHAR"], ["NULL"]
    own = len(reasons)  # the reasons of the row's own values: the extra checks come after them
    for j, (_, condition, reason) in enumerate(extra_checks):
        reasons.append(f"CASE WHEN {condition} THEN {reason} END")
        labels.append(f"$extra{j}")
    if not extra_checks:  # (the SELECT of the checks too)
        reasons, labels = [*reasons, "NULL::VARCHAR"], [*labels, "NULL"]
    if null_values:
        params["null_values"] = list(null_values)
    for i, c in enumerate(columns):
        if c.pattern is not None:
            params[f"pattern{i}"] = c.pattern
    for j, (fname, _, _) in enumerate(extra_checks):
        params[f"extra{j}"] = fname
    all_reasons = ", ".join(f"__r{k}" for k in range(len(reasons)))
    query = sql(
        "ingest/type_rows",
        fragments={
            "carry": "".join(f"{ident(c)}, " for c in carry),
            "names": ", ".join(ident(c.name) for c in columns),
            "all_reasons": all_reasons,
            "first_field": " ".join(
                f"WHEN __r{k} IS NOT NULL THEN {label}" for k, label in enumerate(labels)
            ),
            "reasons": ", ".join(f"{r} AS __r{k}" for k, r in enumerate(reasons) if k < own),
            "good": " AND ".join(["_error IS NULL", *(f"__r{k} IS NULL" for k in range(own))]),
            "checks": ", ".join(f"{r} AS __r{k}" for k, r in enumerate(reasons) if k >= own),
            "casts": casts,
            "trims": trims,
            **_raw_fragments(raw_of, all_reasons),
            "rows": rows if rows == "_rows" else f"({rows})",
        },
    )
    con.execute(query, params)


def _raw_fragments(raw_of: Sequence[str] | None, all_reasons: str) -> dict[str, str]:
    """type_rows.sql's ``raw_in`` / ``raw_out``: the raw text of a rejected row, made only for it (the
    JSON of a struct of the row's text values, as ``to_json`` writes a row of them)."""
    if raw_of is None:
        return {"raw_in": "", "raw_out": ""}
    values = ", ".join(f"{ident(n)} := {ident(n)}" for n in raw_of)
    reason = f"coalesce(_error, NULLIF(concat_ws('; ', {all_reasons}), ''))"
    return {
        "raw_in": f", _raw AS __raw, struct_pack({values}) AS __text",
        "raw_out": f", CASE WHEN {reason} IS NOT NULL "
        "THEN coalesce(__raw, to_json(__text)::VARCHAR) END AS _raw",
    }
