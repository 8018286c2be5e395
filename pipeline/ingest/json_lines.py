"""JSON lines: the query of the rows of lines read as text (sql/ingest/read/json_values.sql), one
text column per declared field, trimmed as the typing trims a value."""

from __future__ import annotations

from collections.abc import Collection

from pipeline.core.sql import ident, sql

# A comma before a closing brace or bracket (blanks between), which DuckDB's parser takes and JSON does
# not: anywhere, at the end of a line, outside strings (sql/ingest/read/json_values.sql)
COMMA_CLOSE = r",[ \t\r\n]*[}\]]"
COMMA_AT_END = r",[ \t\r\n]*}[ \t\r\n]*$"
TRAILING_COMMA = r'^(?:[^"]|"(?:[^"\\]|\\.)*")*,[ \t\r\n]*[}\]]'


def json_values(
    names: list[str],
    carry: str = "",
    nested: dict[str, str] | None = None,
    lists: Collection[str] | None = None,
) -> tuple[str, dict]:
    """The query (and its parameters) of the rows of the view ``_lines(<carry>, _row_number, line,
    _error)``: one text column per name (the top-level key, else the name's ``nested`` path), its
    value trimmed as type_rows trims it (so its typing may leave it as it is: ``trimmed``).

    ``carry`` is a column list (with a trailing comma) kept as it is, e.g. ``"_file, "``; a name in
    ``lists`` takes an array of values (joined by ``, ``).
    """
    nested, lists = nested or {}, set(lists or ())
    inner = list(nested)

    def value(i: int, n: str) -> str:
        v = f"coalesce(__s[{i + 1}], __n[{inner.index(n) + 1}])" if n in nested else f"__s[{i + 1}]"
        return f"{v} AS {ident(n)}"

    values = ", ".join(value(i, n) for i, n in enumerate(names))
    at_paths = _careful("json_extract_string(line, $nested)", "$nested_listable")
    extract = f", CASE WHEN _ok THEN {at_paths} END AS __n" if inner else ""
    params: dict = {
        "comma_close": COMMA_CLOSE,
        "comma_at_end": COMMA_AT_END,
        "trailing_comma": TRAILING_COMMA,
        "paths": [f'$."{n}"' for n in names],
        "names": names,
        "listable": [n in lists for n in names],
    }
    if inner:
        params["nested"] = [nested[n] for n in inner]
        params["nested_listable"] = [n in lists for n in inner]
    careful = _careful("coalesce(__p, json_extract_string(line, $paths))", "$listable")
    fragments = {"carry": carry, "values": values, "nested_values": extract, "careful": careful}
    return sql("ingest/read/json_values", fragments=fragments), params


def _careful(values: str, listable: str) -> str:
    """SQL: the list of extracted ``values`` (JSON text of nested values) with each array of a
    ``listable`` field joined by ', ' and each value that starts or ends with a space trimmed."""
    joined = (
        "CASE WHEN p[2] AND starts_with(p[1], '[') AND json_valid(p[1]) AND json_type(p[1]) = 'ARRAY' "
        "THEN array_to_string(json_extract_string(p[1], '$[*]'), ', ') ELSE p[1] END"
    )
    return (
        f"list_transform(list_transform(list_zip({values}, {listable}), lambda p: {joined}), "
        "lambda v: CASE WHEN starts_with(v, ' ') OR ends_with(v, ' ') THEN trim(v) ELSE v END)"
    )
