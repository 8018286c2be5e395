"""The reasons type_rows gives a row, with exact texts: a text column is never rejected for its value
(it has no reason of its own unless it is required), a Bool takes its spellings in any letter case,
and rows of text columns only, with nothing required, are all good."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.core.settings import FieldType
from pipeline.ingest.config import FieldSpec
from pipeline.ingest.typing import can_fail, field_column, string_column, type_rows


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    yield c
    c.close()


def _rows(con: duckdb.DuckDBPyConnection, values: list[tuple]) -> None:
    con.execute(
        "CREATE TABLE _rows (_row_number BIGINT, _error VARCHAR, _error_field VARCHAR, "
        "a VARCHAR, b VARCHAR, n VARCHAR, f VARCHAR)"
    )
    con.executemany(
        "INSERT INTO _rows VALUES (?, NULL, NULL, ?, ?, ?, ?)", [(i + 1, *v) for i, v in enumerate(values)]
    )


def _typed(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT * EXCLUDE (_row_number) FROM _typed ORDER BY _row_number").fetchall()


def test_reasons_of_text_int_and_bool_columns(con: duckdb.DuckDBPyConnection) -> None:
    _rows(
        con,
        [
            ("x", "y", "1", "Yes"),
            (None, "y", "2", "n"),
            ("x", None, "z", "maybe"),
            ("  ", "any text at all", " 7 ", "FALSE"),
        ],
    )
    columns = [
        field_column(FieldSpec(name="a", type=FieldType.String), required=True),
        field_column(FieldSpec(name="b", type=FieldType.String), required=False),
        field_column(FieldSpec(name="n", type=FieldType.Int), required=False),
        field_column(FieldSpec(name="f", type=FieldType.Bool), required=False),
    ]
    type_rows(con, columns)
    assert _typed(con) == [
        ("x", "y", 1, True, None, None),
        (None, "y", 2, False, "a: missing (required)", "a"),
        (
            "x",
            None,
            None,
            None,
            "n: 'z' is not an Int; f: 'maybe' is not a Bool (true/false, 1/0, yes/no)",
            "n",
        ),
        (None, "any text at all", 7, False, "a: missing (required)", "a"),
    ]


def test_text_columns_alone_reject_nothing(con: duckdb.DuckDBPyConnection) -> None:
    _rows(con, [("x", None, "", "  "), (None, "y", "anything", "")])
    columns = [string_column(n) for n in ("a", "b", "n", "f")]
    assert not any(can_fail(c) for c in columns)
    type_rows(con, columns)
    assert _typed(con) == [("x", None, None, None, None, None), (None, "y", "anything", None, None, None)]
