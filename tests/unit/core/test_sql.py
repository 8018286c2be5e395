"""The one way SQL is built: sql/ files with {{placeholders}} filled, values bound."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.core import sql as sqlmod
from pipeline.core.sql import SqlError, bind, ident, sql


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlmod, "SQL_DIR", tmp_path)
    sqlmod._text.cache_clear()
    yield tmp_path
    sqlmod._text.cache_clear()


def write(folder, name: str, text: str) -> None:
    path = folder / f"{name}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_identifiers_are_quoted_and_fragments_put_in(files):
    write(files, "x/pick", "SELECT {{column}} FROM {{table}} WHERE {{condition}};\n")
    q = sql(
        "x/pick", idents={"table": 'odd "name"', "column": "amount"}, fragments={"condition": "amount > $min"}
    )
    assert q == 'SELECT "amount" FROM "odd ""name""" WHERE amount > $min;\n'
    con = duckdb.connect()
    con.execute('CREATE TABLE "odd ""name""" (amount INTEGER); INSERT INTO "odd ""name""" VALUES (1), (5)')
    assert con.execute(q, bind(q, {"min": 2, "unused": 9})).fetchall() == [(5,)]


def test_a_placeholder_without_text_or_text_without_a_placeholder_is_an_error(files):
    write(files, "x/pick", "SELECT * FROM {{table}};")
    with pytest.raises(SqlError, match=r"no text for the placeholder\(s\) \['table'\]"):
        sql("x/pick")
    with pytest.raises(SqlError, match=r"has no placeholder\(s\) \['other'\]"):
        sql("x/pick", idents={"table": "t", "other": "u"})
    with pytest.raises(SqlError, match="both as identifier and as fragment"):
        sql("x/pick", idents={"table": "t"}, fragments={"table": "t"})


def test_identifiers_are_checked_against_the_declared_schema(files):
    write(files, "x/pick", "SELECT {{column}} FROM t;")
    assert sql("x/pick", idents={"column": "amount"}, schema={"amount", "store"}) == 'SELECT "amount" FROM t;'
    with pytest.raises(SqlError, match="column 'price' is not declared"):
        sql("x/pick", idents={"column": "price"}, schema={"amount", "store"})
    with pytest.raises(SqlError, match="non-empty string"):
        ident("")


def test_what_a_full_line_comment_mentions_is_neither_filled_nor_bound(files):
    write(
        files, "x/pick", "-- fills {{table}}; reads $limit\nSELECT * FROM {{table}} -- trailing\nLIMIT $n;\n"
    )
    q = sql("x/pick", idents={"table": "t"})
    assert q == 'SELECT * FROM "t" -- trailing\nLIMIT $n;\n'
    assert bind(q, {"n": 1, "limit": 2}) == {"n": 1}


def test_the_project_sql_files_have_no_placeholder_in_a_trailing_comment():
    offenders = [
        str(p.relative_to(sqlmod.SQL_DIR))
        for p in sqlmod.SQL_DIR.rglob("*.sql")
        for line in p.read_text().splitlines()
        if "--" in line and not line.lstrip().startswith("--") and "{{" in line.split("--", 1)[1]
    ]
    assert offenders == []
