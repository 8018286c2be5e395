"""any_insert_order: inserts within need not keep their rows' order; the setting is back after, even
after a failed statement."""

import duckdb
import pytest

from pipeline.core.warehouse import any_insert_order, connect

SHOWN = "SELECT current_setting('preserve_insertion_order')"


def test_the_order_is_free_within_and_kept_again_after(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        assert con.execute(SHOWN).fetchall() == [(True,)]
        with any_insert_order(con):
            assert con.execute(SHOWN).fetchall() == [(False,)]
            con.execute("CREATE TABLE t AS SELECT i FROM range(500000) r(i)")
        assert con.execute(SHOWN).fetchall() == [(True,)]
        # the same rows, whatever their order
        assert con.execute("SELECT count(*), sum(i), count(DISTINCT i) FROM t").fetchall() == [
            (500_000, 500_000 * 499_999 // 2, 500_000)
        ]
        with pytest.raises(duckdb.CatalogException), any_insert_order(con):
            con.execute("INSERT INTO missing SELECT 1")
        assert con.execute(SHOWN).fetchall() == [(True,)]


def test_a_connection_that_keeps_no_order_is_left_so(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("SET preserve_insertion_order = false")
        with any_insert_order(con):
            assert con.execute(SHOWN).fetchall() == [(False,)]
        assert con.execute(SHOWN).fetchall() == [(False,)]
