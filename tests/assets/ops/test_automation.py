"""Automation: a blocking check stops the assets downstream, transient errors are retried with backoff."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time

import dagster as dg
import duckdb
import pytest

from pipeline.core.retries import TRANSIENT_RETRY
from pipeline.core.settings import ConfigError
from pipeline.core.warehouse import WarehouseResource, connect
from tests.conftest import make_config, run_nightly, write_pos

D1 = dt.date(2026, 1, 1)


def step_events(result, kind: str) -> list[str]:
    return [e.step_key for e in result.all_events if e.event_type_value == kind]


def materialized(result) -> set[str]:
    return {
        e.asset_key.to_user_string()
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }


def test_a_broken_feed_blocks_the_assets_downstream_and_is_not_retried(tmp_path):
    config = make_config(tmp_path, checks={"max_reject_rate": 0.02, "block_reject_rate": 0.5})
    # 2 of 3 rows rejected: above the block threshold
    write_pos(tmp_path / "files", D1, ["O1,C1,S1,P1,1,10.50", "O2,,S1,P1,1,3", "O3,C3,S2,P2,2,ten"])
    result = run_nightly(config, D1, assets=["tx_pos", "events", "kpi_purchases"])
    assert not result.success
    evaluation = next(
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    )
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "tx_pos" in materialized(result)  # the feed itself is stored, its rejects are visible
    assert materialized(result) == {"tx_pos"}  # ...but nothing is built from it
    assert step_events(result, "STEP_UP_FOR_RETRY") == []  # a broken feed is not transient
    with connect(config.warehouse_path, read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "events" not in tables and "kpi_purchases" not in tables


def test_under_the_block_threshold_the_check_only_warns(tmp_path):
    config = make_config(tmp_path, checks={"max_reject_rate": 0.02, "block_reject_rate": 0.9})
    write_pos(tmp_path / "files", D1, ["O1,C1,S1,P1,1,10.50", "O2,,S1,P1,1,3", "O3,C3,S2,P2,2,ten"])
    result = run_nightly(config, D1, assets=["tx_pos", "events"])
    assert result.success and materialized(result) == {"tx_pos", "events"}
    evaluation = next(
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.asset_check_evaluation_data.asset_key.path == ["tx_pos"]
        and e.asset_check_evaluation_data.check_name == "reject_rate_under_threshold"
    )
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN


def test_block_threshold_below_the_warning_threshold_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="block_reject_rate"):
        make_config(tmp_path, checks={"max_reject_rate": 0.3, "block_reject_rate": 0.1})


HOLD = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
sys.stdin.readline()  # held until told (or until the test's end closes the pipe)
con.close()
"""


def release_after_a_locked_attempt(
    monkeypatch, holder: subprocess.Popen, not_before: float
) -> tuple[threading.Thread, threading.Event]:
    """Tell ``holder`` to let the warehouse go once a connect in this process has found it locked, and
    not before the monotonic time ``not_before``: so the run's first attempt is always refused (however
    long its setup takes) and the run waits for the lock no longer than its backoff needs."""
    refused = threading.Event()
    real_connect = duckdb.connect

    def watched_connect(*args, **kwargs):
        try:
            return real_connect(*args, **kwargs)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                refused.set()
            raise

    def release() -> None:
        if refused.wait(120):
            time.sleep(max(0.0, not_before - time.monotonic()))
        holder.stdin.write("release\n")
        holder.stdin.close()

    monkeypatch.setattr(duckdb, "connect", watched_connect)
    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    return thread, refused  # set ``refused`` to release at once (the run ended without being refused)


def test_a_warehouse_held_by_another_process_is_retried_with_backoff(tmp_path, monkeypatch):
    config = make_config(tmp_path)
    write_pos(tmp_path / "files", D1, ["O1,C1,S1,P1,1,10.50"])
    with connect(config.warehouse_path):
        pass  # the file exists
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(config.warehouse_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    started = time.monotonic()
    # held until the run's first attempt was refused, and at least 2.6 s: a success can only come after
    # a retry and its backoff (its last retry, at least 8 s after the first attempt, comes after)
    releaser, refused = release_after_a_locked_attempt(monkeypatch, holder, not_before=started + 2.6)
    result = run_nightly(config, D1, assets=["tx_pos"])
    refused.set()
    releaser.join(10)
    holder.wait()
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    restarts = step_events(result, "STEP_UP_FOR_RETRY")
    assert len(restarts) >= 1  # first attempt: locked; waited (2 s, then 4 s), then loaded
    assert time.monotonic() - started >= 2.5
    with connect(config.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT order_id FROM tx_pos").fetchall() == [("O1",)]


def test_an_unusable_warehouse_fails_at_once_with_a_clear_error(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the warehouse folder should be")
    config = make_config(tmp_path, warehouse=str(blocker / "warehouse.duckdb"))
    write_pos(tmp_path / "files", D1, ["O1,C1,S1,P1,1,10.50"])
    result = run_nightly(config, D1, assets=["tx_pos"])
    assert not result.success
    assert step_events(result, "STEP_UP_FOR_RETRY") == []
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert (
        f"cannot open the warehouse {blocker / 'warehouse.duckdb'}" in failure.step_failure_data.error.message
    )


def test_a_table_the_warehouse_does_not_have_fails_at_once(tmp_path):
    """A step that reads a table that is not there (run before the assets that write it): waiting cannot
    fix that, so the step is not retried."""

    @dg.asset(retry_policy=TRANSIENT_RETRY)
    def reads_tx_pos(warehouse: WarehouseResource) -> None:
        with warehouse.connect() as con:
            con.execute("SELECT * FROM tx_pos").fetchall()

    warehouse = WarehouseResource(path=str(tmp_path / "warehouse.duckdb"))
    result = dg.materialize([reads_tx_pos], resources={"warehouse": warehouse}, raise_on_error=False)
    assert not result.success
    assert step_events(result, "STEP_UP_FOR_RETRY") == []
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "tx_pos" in failure.step_failure_data.error.message
