"""Every warehouse connection sets DuckDB's memory_limit: 2GB by default, from the environment otherwise."""

from __future__ import annotations

import pytest

from pipeline.core.warehouse import MEMORY_LIMIT_ENV, WarehouseError, cache_at_most, connect


def _limit(path) -> str:
    with connect(path) as con:
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_the_default_limit_is_2gb(tmp_path, monkeypatch):
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    # DuckDB reports 2GB as 1.8 GiB
    assert _limit(tmp_path / "w.duckdb") == "1.8 GiB"


def test_the_environment_overrides_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "512MB")
    assert _limit(tmp_path / "w.duckdb") == "488.2 MiB"


def test_an_empty_value_leaves_duckdbs_default(tmp_path, monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "")
    assert _limit(tmp_path / "w.duckdb") not in ("1.8 GiB", "488.2 MiB")


def test_a_long_read_caches_a_quarter_of_the_limit_then_the_limit_is_as_configured(tmp_path, monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "2GB")
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("CREATE TABLE t AS SELECT i, md5(i::VARCHAR) AS s FROM range(300000) r(i)")
        shown = "SELECT current_setting('memory_limit')"
        with cache_at_most(con):
            assert con.execute(shown).fetchall() == [("460.7 MiB",)]
            # a scan within keeps at most that cached
            assert con.execute("SELECT count(DISTINCT s) FROM t").fetchall() == [(300_000,)]
        assert con.execute(shown).fetchall() == [("1.8 GiB",)]
        with cache_at_most(con, share=0.01):  # never below 256 MiB
            assert con.execute(shown).fetchall() == [("256.0 MiB",)]
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "")
    with connect(tmp_path / "w.duckdb") as con:
        default = con.execute("SELECT current_setting('memory_limit')").fetchall()
        with cache_at_most(con):
            assert con.execute("SELECT current_setting('memory_limit')").fetchall() != default
        assert con.execute("SELECT current_setting('memory_limit')").fetchall() == default


def test_an_unreadable_value_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(WarehouseError, match=MEMORY_LIMIT_ENV):
        _limit(tmp_path / "w.duckdb")


SPILLER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SET memory_limit = '64MB'")
con.execute("SET preserve_insertion_order = false")
con.execute("CREATE TABLE t AS SELECT i, md5(i::VARCHAR) AS s FROM range(30000000) r(i) ORDER BY s")
"""


def test_a_killed_runs_spill_files_are_removed_by_the_next_writer_and_a_live_ones_kept(tmp_path):
    """A run killed while DuckDB spilled left its files for good (gigabytes); the next writer removes
    them. The files of a process that is still alive are never touched."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from pipeline.core.warehouse import spill_folder

    path = tmp_path / "w.duckdb"
    proc = subprocess.Popen([sys.executable, "-c", SPILLER, str(path)])
    folder = spill_folder(path)
    deadline = time.monotonic() + 120
    while not any(f.name.endswith(".tmp") for f in folder.glob("*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any(f.name.startswith(f"duckdb_temp_{proc.pid}_") for f in folder.iterdir()), "it spilled"
    live = folder / f"duckdb_temp_{os.getpid()}_0_storage_DEFAULT-0.tmp"  # this process is alive
    live.write_bytes(b"x")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with connect(path, read_only=False):
        pass
    assert [f.name for f in folder.iterdir()] == [live.name]


def test_running_out_of_the_limit_names_the_variable(tmp_path, monkeypatch):
    # one list of ten million numbers cannot spill: DuckDB runs out of its 32MB
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "32MB")
    with pytest.raises(WarehouseError, match=f"memory_limit \\(32MB\\).*{MEMORY_LIMIT_ENV}"):
        with connect(tmp_path / "w.duckdb") as con:
            con.execute("SELECT list(range) FROM range(10000000)").fetchall()
