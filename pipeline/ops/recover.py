"""Recover from runs whose process died (SIGKILL, OOM kill, a reboot) without telling Dagster.

Such a run stays STARTED for ever and keeps its slot of the `duckdb` pool, so every later step
of the pool waits. `recover` finds the runs of this Dagster instance that are STARTED (or
STARTING/CANCELING) but whose process is gone from this machine, marks them FAILURE and frees their
pool slots. Every backfill does it before it starts (`free_dead_runs`, saying so), so a crash never
blocks the next run; `nightjar recover` does it on demand. The warehouse needs nothing: DuckDB never
committed the killed write. Processes can be checked on this machine only, so the automatic
recovery takes only runs of this machine: with SQLite storage every run; with PostgreSQL (which
several machines may share) the runs a backfill tagged with this host name (`nightjar/host`).
`nightjar recover`, run by a person who knows, takes every dead-looking run.

A live run can be stranded too: Dagster gives a freed slot to the steps already waiting, so a step
that starts waiting while another run frees the slot can miss it and wait for ever, the slot free
(nothing but a daemon would assign it again). A backfill's progress thread wakes such a step
(`wake_stranded`).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

import dagster as dg

from pipeline.core.warehouse import POOL

HOST_TAG = "nightjar/host"  # the machine a backfill ran on
ACTIVE = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.CANCELING]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_pids(instance: dg.DagsterInstance, run_id: str) -> set[int]:
    """The processes that executed the run's steps (from its engine events)."""
    records = instance.get_records_for_run(
        run_id, of_type={dg.DagsterEventType.ENGINE_EVENT, dg.DagsterEventType.RUN_START}
    ).records
    return {
        r.event_log_entry.dagster_event.pid
        for r in records
        if r.event_log_entry.dagster_event and r.event_log_entry.dagster_event.pid
    }


def local_storage(instance: dg.DagsterInstance) -> bool:
    """Dagster's storage is SQLite files under $DAGSTER_HOME (or in memory): every run is of this machine."""
    module = type(instance.run_storage).__module__
    return "sqlite" in module or "in_memory" in module


def of_this_machine(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    """The run was started here: tagged so by a backfill, or the storage is local."""
    host = run.tags.get(HOST_TAG)
    return host == socket.gethostname() if host else local_storage(instance)


def dead_runs(instance: dg.DagsterInstance, mine_only: bool = False) -> list[dg.DagsterRun]:
    """Active runs none of whose processes is alive (runs with no known process are left alone);
    ``mine_only``: only runs known to be of this machine (see the module)."""
    out = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=ACTIVE)):
        if mine_only and not of_this_machine(instance, run):
            continue
        pids = run_pids(instance, run.run_id)
        if pids and not any(pid_alive(p) for p in pids):
            out.append(run)
    return out


def recover(
    instance: dg.DagsterInstance,
    dry_run: bool = False,
    by: str = "`nightjar recover`",
    mine_only: bool = False,
) -> list[str]:
    """Mark dead runs FAILURE and free their pool slots; return their run ids."""
    runs = dead_runs(instance, mine_only)
    if not dry_run:
        for run in runs:
            instance.report_run_failed(run, f"the run's process is gone (killed?); marked failed by {by}")
            if instance.event_log_storage.supports_global_concurrency_limits:
                instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    return [r.run_id for r in runs]


def free_dead_runs(instance: dg.DagsterInstance, say: Callable[[str], None]) -> list[str]:
    """Before a run: free what dead runs hold (see the module), saying which."""
    run_ids = recover(instance, by="the next run", mine_only=True)
    for run_id in run_ids:
        say(
            f"[recover] run {run_id} was left STARTED by a process that is gone (killed?): "
            "marked FAILURE and its pool slots freed"
        )
    return run_ids


def wake_stranded(instance: dg.DagsterInstance, pool: str = POOL) -> None:
    """Give a free slot of ``pool`` to its oldest waiting step when no step holds or was given it (see
    the module). A step given a slot it then cannot take (another run took it first) waits for the
    next one: the slots themselves are the semaphore."""
    storage = instance.event_log_storage
    free = getattr(storage, "has_unassigned_slots", None)  # Dagster's SQL storages' slot queue
    assign = getattr(storage, "assign_pending_steps", None)
    if storage.supports_global_concurrency_limits and free and assign and free(pool):
        assign([pool])
