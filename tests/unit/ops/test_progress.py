"""The progress line: its numbers, its time left, and the ticker that keeps a long step from silence."""

from __future__ import annotations

import logging
import threading
import time

import dagster as dg
from dagster._core.execution.plan.objects import StepSuccessData

from pipeline.ops.progress import WARNINGS_PER_STEP, Progress, Ticker, duration, eta


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_durations_read_like_a_person_would_say_them():
    assert [duration(s) for s in (0, 42.4, 60, 185, 3600, 3725)] == [
        "0 s",
        "42 s",
        "1 min 00 s",
        "3 min 05 s",
        "1 h 00 min",
        "1 h 02 min",
    ]


def test_the_time_left_is_the_pace_so_far_times_what_is_left():
    assert eta(0.0, 0, 10) is None  # no pace before the first asset
    assert eta(120.0, 4, 10) == "3 min 00 s"  # 30 s per asset, 6 left
    assert eta(50.0, 10, 10) == "0 s"


def test_the_line_counts_assets_and_days_and_the_ticker_repeats_it_only_after_silence():
    clock, lines = Clock(), []
    progress = Progress(days=546, print_line=lines.append, clock=clock, started=clock.now)
    assert progress.line() == "[progress] planning the run, 546 days, elapsed 0 s"
    progress.planned = {f"asset_{i}" for i in range(22)}
    progress.first_step_at = clock.now + 10
    clock.now += 70
    progress.done = {"asset_0", "asset_1"}
    progress.step = "events"
    assert progress.line() == (
        "[progress] 2/22 assets, 546 days, running events, elapsed 1 min 10 s, ETA 10 min 00 s"
    )
    progress.say()
    clock.now += 14
    progress.tick(every=15)
    assert len(lines) == 1  # printed 14 s ago: nothing yet
    clock.now += 1
    progress.tick(every=15)
    assert len(lines) == 2 and lines[-1].endswith("elapsed 1 min 25 s, ETA 12 min 30 s")  # 75 s / 2 × 20


def test_the_ticker_tends_every_few_seconds_and_a_failing_tend_is_tried_again():
    clock, calls, tended_twice = Clock(), [], threading.Event()
    progress = Progress(days=1, print_line=lambda line: None, clock=clock, started=clock.now)

    def tend() -> None:
        calls.append(clock.now)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        tended_twice.set()

    with Ticker(progress, tend=tend, tend_every=5.0):
        clock.now += 4.0  # not yet
        clock.now += 1.0
        deadline = time.monotonic() + 10
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
        assert calls == [1005.0]  # tried, and failed
        assert not tended_twice.wait(1.5)  # the clock stands still: not again yet
        clock.now += 5.0
        assert tended_twice.wait(10.0)
    assert calls == [1005.0, 1010.0]


def test_a_ticker_within_another_of_the_same_progress_still_tends():
    """`nightjar backfill` holds a Ticker from loading the project on; the run's own Ticker, inside it,
    must still wake stranded steps (its ``tend``), while the line is repeated once only."""
    clock, lines, tended = Clock(), [], threading.Event()
    progress = Progress(days=1, print_line=lines.append, clock=clock, started=clock.now)
    with Ticker(progress), Ticker(progress, tend=tended.set, tend_every=5.0):
        clock.now += 15.0
        assert tended.wait(10.0)
        time.sleep(2.5)
    assert len(lines) == 1  # one repeat of the line after 15 s of silence, not one per Ticker


def log_line(step: str, message: str, level: int) -> dg.EventLogEntry:
    return dg.EventLogEntry(
        error_info=None,
        level=level,
        user_message=message,
        run_id="r",
        timestamp=time.time(),
        step_key=step,
        dagster_event=None,
    )


def step_event(kind: dg.DagsterEventType, step: str, seconds: float = 0.001) -> dg.EventLogEntry:
    data = StepSuccessData(duration_ms=seconds * 1000) if kind == dg.DagsterEventType.STEP_SUCCESS else None
    event = dg.DagsterEvent(kind.value, "nightly", step_key=step, event_specific_data=data)
    return dg.EventLogEntry(
        error_info=None,
        level=logging.INFO,
        user_message="",
        run_id="r",
        timestamp=time.time(),
        step_key=step,
        dagster_event=event,
    )


def test_a_step_that_warns_for_every_day_prints_a_few_and_counts_the_rest():
    # a 150-day range printed 596 lines of "model ... has no FINISHED version on or before <day>"
    lines: list[str] = []
    progress = Progress(days=150, print_line=lines.append)
    progress.on_event(step_event(dg.DagsterEventType.STEP_START, "predictions"))
    for i in range(600):
        progress.on_event(log_line("predictions", f"day {i}: not scored", logging.WARNING))
    progress.on_event(log_line("predictions", "it broke", logging.ERROR))  # errors: every one
    progress.on_event(step_event(dg.DagsterEventType.STEP_SUCCESS, "predictions"))
    progress.on_event(step_event(dg.DagsterEventType.STEP_START, "results"))
    progress.on_event(log_line("results", "one of results", logging.WARNING))
    shown = [ln for ln in lines if not ln.startswith("[progress]")]
    assert shown == [
        *(f"[warning] predictions: day {i}: not scored" for i in range(WARNINGS_PER_STEP)),
        "[error] predictions: it broke",
        f"[warning] predictions: {600 - WARNINGS_PER_STEP} more warning(s) not shown "
        "(`-v` prints them all; the run's log in the UI has them)",
        "[warning] results: one of results",
    ]


def test_the_eta_comes_from_earlier_runs_from_the_start_then_from_this_runs_pace():
    clock, lines = Clock(), []
    progress = Progress(days=20, print_line=lines.append, clock=clock, started=clock.now)
    progress.expected = {"a": 10.0, "b": 20.0}  # expected_steps of the earlier runs
    progress.planned = {"a", "b"}
    progress.on_event(step_event(dg.DagsterEventType.STEP_START, "a"))
    assert lines[-1] == (
        "[progress] 0/2 assets, 20 days, running a, elapsed 0 s, ETA 30 s (estimate from earlier runs)"
    )
    clock.now += 20
    progress.tick(every=15)  # a heartbeat: how long the step has run, what is left of it
    assert lines[-1] == (
        "[progress] 0/2 assets, 20 days, running a for 20 s, elapsed 20 s, "
        "ETA 20 s (estimate from earlier runs)"
    )
    progress.done.add("a")
    progress.on_event(step_event(dg.DagsterEventType.STEP_SUCCESS, "a", seconds=20.0))  # twice as slow
    progress.on_event(step_event(dg.DagsterEventType.STEP_START, "b"))
    # b's 20 s at the pace (20 + 3) / (10 + 3): a tenth of the 30 s expected counts at the earlier pace
    assert lines[-1] == "[progress] 1/2 assets, 20 days, running b, elapsed 20 s, ETA 35 s"


def test_with_no_earlier_run_the_line_says_the_eta_comes_after_the_first_step():
    clock, lines = Clock(), []
    progress = Progress(days=20, print_line=lines.append, clock=clock, started=clock.now)
    progress.planned = {"a", "b"}
    progress.on_event(step_event(dg.DagsterEventType.STEP_START, "a"))
    assert lines[-1] == "[progress] 0/2 assets, 20 days, running a, elapsed 0 s, ETA after the first step"
