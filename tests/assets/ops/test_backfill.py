"""A single-run backfill: planned with one event per asset for the whole range, printing its progress,
quiet unless asked; a failed run says which steps failed and is tagged so.

A tiny graph of three daily assets (one with a check) stands in for the project's, so that what is
tested is the run's planning and its event stream, on a real SQLite Dagster instance.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import sys
import time

import dagster as dg
import pytest

from pipeline.core.warehouse import POOL
from pipeline.ops.backfill import EVENT_BATCH_SIZE, FAILED_STEPS_TAG, PLANNED_PER_RANGE, run_range
from pipeline.ops.progress import Progress
from tests.conftest import ROOT

FIRST, LAST = dt.date(2026, 1, 1), dt.date(2026, 1, 20)
DAYS = (LAST - FIRST).days + 1
PARTS = dg.DailyPartitionsDefinition(start_date="2025-12-01", timezone="UTC")


def tiny_job(fail: bool = False, hold: str = "", busy: float = 0.0) -> dg.JobDefinition:
    """a -> b -> c (a and c in the warehouse pool); ``hold``: the step that waits, holding its slot
    of the pool, until the process is killed; ``busy``: the seconds b computes in Python (holding the
    interpreter, as a long step does)."""

    def holding(step: str) -> None:
        if hold == step:
            print("HOLDING the pool slot", flush=True)
            time.sleep(600)

    policy = dg.BackfillPolicy.single_run()

    @dg.asset(
        partitions_def=PARTS,
        backfill_policy=policy,
        check_specs=[dg.AssetCheckSpec("ok", asset="a")],
        pool=POOL,
    )
    def a(context):
        context.log.warning("nothing configured for a, so nothing to do")
        holding("a")
        yield dg.MaterializeResult(check_results=[dg.AssetCheckResult(passed=True)])

    @dg.asset(partitions_def=PARTS, backfill_policy=policy, deps=[a])
    def b(context) -> None:
        context.log.info("b's own log line")
        holding("b")
        end = time.monotonic() + busy
        while time.monotonic() < end:
            sum(range(1000))
        if fail:
            raise ValueError("b broke")

    @dg.asset(partitions_def=PARTS, backfill_policy=policy, deps=[b], pool=POOL)
    def c() -> None:
        holding("c")

    job = dg.define_asset_job("nightly", partitions_def=PARTS)
    return dg.Definitions(assets=[a, b, c], jobs=[job]).resolve_job_def("nightly")


@pytest.fixture(scope="module")
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def run(instance, fail=False, verbose=False):
    lines: list[str] = []
    progress = Progress(days=DAYS, print_line=lines.append)
    ok = run_range(tiny_job(fail), FIRST, LAST, verbose=verbose, progress=progress, dagster_instance=instance)
    run_id = instance.get_runs(limit=1)[0].run_id
    return ok, lines, run_id


def planned(instance, run_id):
    return [
        r.event_log_entry.dagster_event
        for r in instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        ).records
    ]


def test_a_range_is_planned_per_asset_and_shows_its_progress_quietly(instance, capsys):
    ok, lines, run_id = run(instance)
    err = capsys.readouterr().err
    assert ok
    events = planned(instance, run_id)
    assert sorted(e.asset_key.to_user_string() for e in events) == ["a", "b", "c"]  # not 3 × 20
    for e in events:
        keys = e.event_specific_data.partitions_subset.get_partition_keys()
        assert keys[0] == FIRST.isoformat() and keys[-1] == LAST.isoformat() and len(keys) == DAYS
    # ...while every day of every asset is still materialized
    assert len(instance.get_materialized_partitions(dg.AssetKey("c"))) == DAYS
    assert PLANNED_PER_RANGE not in os.environ and EVENT_BATCH_SIZE not in os.environ  # for the run only

    assert lines[0].startswith("[progress] planning one run of 20 day(s), 2026-01-01..2026-01-20")
    starts = [ln for ln in lines if "running" in ln]
    assert starts[0].startswith("[progress] 0/3 assets, 20 days, running a, elapsed ")
    assert any(ln.startswith("[progress] 1/3 assets, 20 days, running b") for ln in starts)
    assert "ETA" in starts[-1]  # after the first asset, the time left is known
    assert lines[-1].startswith("[progress] 3/3 assets, 20 days, elapsed ") and "ETA" not in lines[-1]
    # an asset's warning is printed, Dagster's own log lines are not
    assert "[warning] a: nothing configured for a, so nothing to do" in lines
    assert "b's own log line" not in err and "nothing configured" not in err


def test_a_failed_run_names_its_failed_steps_and_is_tagged_and_verbose_shows_dagsters_lines(instance, capsys):
    ok, lines, run_id = run(instance, fail=True, verbose=True)
    err = capsys.readouterr().err
    assert not ok
    assert "FAILED b: ValueError: b broke" in err
    assert "are not marked failed in the UI" in err and "--from 2026-01-01 --to 2026-01-20" in err
    assert instance.get_run_by_id(run_id).tags[FAILED_STEPS_TAG] == "b"
    assert lines[-1].startswith("[progress] 1/3 assets, 20 days")
    assert "b's own log line" in err  # -v: Dagster's console logger at INFO
    assert not any(ln.startswith("[warning]") for ln in lines)  # ...which prints the warning itself


def test_the_first_progress_line_carries_an_eta_from_an_earlier_run():
    # it came only once the first asset was done: the first asset of a long backfill can take minutes
    with dg.instance_for_test() as inst:
        first_lines: list[str] = []
        progress = Progress(DAYS, first_lines.append)
        assert run_range(tiny_job(), FIRST, LAST, progress=progress, dagster_instance=inst)
        # no earlier run: the line says when the ETA comes, rather than nothing
        said = ", no earlier run of the job to estimate from, ETA after the first step"
        assert first_lines[0].endswith(said)
        assert first_lines[1].startswith("[progress] 0/3 assets, 20 days, running a, elapsed ")
        assert first_lines[1].endswith(", ETA after the first step")

        lines: list[str] = []
        progress = Progress(DAYS, lines.append)
        assert run_range(tiny_job(), FIRST, LAST, progress=progress, dagster_instance=inst)
    assert re.fullmatch(
        r"\[progress\] planning one run of 20 day\(s\), 2026-01-01\.\.2026-01-20 \(run \w{8}\), "
        r"ETA \d+ s \(estimate from earlier runs\)",
        lines[0],
    )
    assert re.fullmatch(
        r"\[progress\] 0/3 assets, 20 days, running a, elapsed \d+ s, "
        r"ETA \d+ s \(estimate from earlier runs\)",
        lines[1],
    )
    running_b = next(ln for ln in lines if "running b" in ln)
    assert re.search(r", ETA \d+ s$", running_b)  # a step done: refined from this run's pace


def test_a_step_longer_than_the_heartbeat_is_not_silent():
    lines: list[tuple[float, str]] = []
    progress = Progress(DAYS, lambda line: lines.append((time.monotonic(), line)), heartbeat=0.5)
    with dg.instance_for_test() as inst:
        assert run_range(tiny_job(busy=3.0), FIRST, LAST, progress=progress, dagster_instance=inst)
    during_b = [(t, ln) for t, ln in lines if "running b" in ln]
    beats = [ln for _, ln in during_b if re.search(r"running b for \d+ s, elapsed \d+ s", ln)]
    assert len(beats) >= 3, lines  # ~5 over 3 s; on the old code, one every 15 s
    gaps = [later - earlier for (earlier, _), (later, _) in zip(during_b, during_b[1:], strict=False)]
    assert max(gaps) < 2.5, gaps  # never silent for more than a few heartbeats


def start_holder(point: str) -> int:
    """A forked process (no new interpreter to start) running a backfill that holds at ``point``;
    returns its pid once it holds."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run until killed
        os.close(read)
        sys.stdout = os.fdopen(write, "w", buffering=1)  # what the held step prints comes to the parent
        try:
            run_range(tiny_job(hold=point), FIRST, LAST, dagster_instance=dg.DagsterInstance.get())
        finally:
            os._exit(1)
    os.close(write)
    with os.fdopen(read) as out:
        for line in out:
            if "HOLDING" in line:
                return pid
    raise AssertionError("the backfill ended before it held its slot")


# Without the recovery the second run would wait for the slot for ever; with it, it starts its first
# step at once: the timeout (not a timed assertion) bounds the whole test, both runs included.
@pytest.mark.timeout(120)
@pytest.mark.parametrize("point", ["a", "c"], ids=["in-the-first-step", "in-the-last-step"])
def test_a_killed_backfill_does_not_block_the_next_one(tmp_path, monkeypatch, point):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")  # the pool `duckdb`, limit 1
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    holder = start_holder(point)
    os.kill(holder, signal.SIGKILL)  # inside step a (or c), holding the slot
    assert os.waitpid(holder, 0)[1] == signal.SIGKILL
    with dg.DagsterInstance.get() as inst:
        (dead,) = inst.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        lines: list[str] = []
        ok = run_range(tiny_job(), FIRST, LAST, progress=Progress(DAYS, lines.append), dagster_instance=inst)
        assert ok  # the next run started and finished: no manual step
        assert any(ln.startswith(f"[recover] run {dead.run_id} was left STARTED") for ln in lines)
        assert inst.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
