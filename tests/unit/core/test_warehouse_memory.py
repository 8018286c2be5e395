"""Every warehouse connection sets DuckDB's memory_limit: 2GB by default, from the environment otherwise."""

from __future__ import annotations

import pytest

from pipeline.core.warehouse import MEMORY_LIMIT_ENV, WarehouseError, connect


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


def test_an_unreadable_value_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(WarehouseError, match=MEMORY_LIMIT_ENV):
        _limit(tmp_path / "w.duckdb")
