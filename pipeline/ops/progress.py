"""Progress of a run as it goes: assets done / total, days, elapsed, ETA.

`Progress.on_event` is a listener of the run's event stream (`DagsterInstance.add_event_listener`):
it sees every event Dagster stores for the run, in the thread that runs the steps. The assets of the
run come from its planned-materialization events, the done ones from their materializations. A
`Ticker` thread repeats the line (every `heartbeat` seconds of silence, 15 by default) while a long step
runs (or the project loads), so the run is never silent for long.
The time left: from the start, the steps' expected times from earlier runs of the job (`expected`, see
pipeline/ops/estimate.py), scaled by this run's pace once steps have finished; with no earlier run, the
pace so far (seconds per asset done) once an asset is done, and before that the line says so.
Quiet by default: Dagster's own log lines are for `-v`; errors from our assets are printed in one
line each, and so are the first WARNINGS_PER_STEP warnings of each step (a step over a long range can
warn for every day: the rest are counted, and said in one line when the step ends).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

import dagster as dg

from pipeline.ops import estimate

PLANNED = dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
MATERIALIZED = dg.DagsterEventType.ASSET_MATERIALIZATION
STEP_START = dg.DagsterEventType.STEP_START
STEP_DONE = {
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.STEP_SKIPPED,
}

WARNINGS_PER_STEP = 5


def duration(seconds: float) -> str:
    """1 h 02 min, 3 min 05 s, 42 s."""
    s = max(0, round(seconds))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"


def eta(elapsed_in_steps: float, done: int, total: int) -> str | None:
    """Time left at the pace so far (seconds per asset done), or None before the first asset."""
    if done == 0 or total == 0:
        return None
    return duration(elapsed_in_steps / done * max(total - done, 0))


@dataclass
class Progress:
    """What a run has done so far, and its one-line summary."""

    days: int
    print_line: Callable[[str], None]
    started: float = field(default_factory=time.monotonic)
    clock: Callable[[], float] = time.monotonic
    planned: set[str] = field(default_factory=set)
    done: set[str] = field(default_factory=set)
    step: str | None = None
    first_step_at: float | None = None
    failed: list[str] = field(default_factory=list)
    echo_logs: bool = True
    ticking: bool = False  # a Ticker runs for it
    last_print: float = 0.0
    warned: dict[str, int] = field(default_factory=dict)  # warnings of each step so far
    heartbeat: float = 15.0  # seconds of silence after which the line is printed again
    expected: dict[str, float] | None = None  # each step's expected seconds (earlier runs), if known
    step_started: float | None = None
    took: dict[str, float] = field(default_factory=dict)  # this run's successful steps: their seconds
    ended: set[str] = field(default_factory=set)  # this run's finished steps (failed and skipped too)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def line(self) -> str:
        now = self.clock()
        total = len(self.planned)
        parts = [f"{len(self.done)}/{total} assets" if total else "planning the run"]
        parts.append(f"{self.days} day{'s' if self.days != 1 else ''}")
        if self.step:
            running_for = now - (self.step_started or now)
            for_ = f" for {duration(running_for)}" if running_for >= 1 else ""  # a heartbeat in a long step
            parts.append(f"running {self.step}{for_}")
        parts.append(f"elapsed {duration(now - self.started)}")
        if (left := self.time_left(now)) is not None:
            parts.append(left)
        return "[progress] " + ", ".join(parts)

    def time_left(self, now: float | None = None) -> str | None:
        """The ETA part of the line: from earlier runs (said so until a step of this run has finished),
        else the pace so far, else that it comes after the first step; None when there is nothing left or
        nothing to say yet (no assets planned, no earlier run)."""
        now = self.clock() if now is None else now
        total = len(self.planned)
        if total and len(self.done) >= total:
            return None
        if self.expected is not None:
            running_for = now - (self.step_started or now)
            left = estimate.time_left(self.expected, self.took, self.ended, self.step, running_for)
            return f"ETA {duration(left)}" + ("" if self.took else " (estimate from earlier runs)")
        if not total:
            return None
        pace = eta(now - (self.first_step_at or now), len(self.done), total)
        return f"ETA {pace}" if pace is not None else "ETA after the first step"

    def say(self, text: str | None = None) -> None:
        with self.lock:
            self.print_line(text if text is not None else self.line())
            self.last_print = self.clock()

    def on_event(self, entry: dg.EventLogEntry) -> None:
        """The listener: update the counts; print a line when a step starts or ends."""
        event = entry.dagster_event
        if event is None:  # a log line of an asset (context.log): warnings and errors only
            level = entry.level if isinstance(entry.level, int) else logging.getLevelName(entry.level)
            if self.echo_logs and isinstance(level, int) and level >= logging.WARNING:
                step = entry.step_key or ""
                if level < logging.ERROR:
                    self.warned[step] = self.warned.get(step, 0) + 1
                    if self.warned[step] > WARNINGS_PER_STEP:
                        return
                name = logging.getLevelName(level).lower()
                self.say(f"[{name}] {entry.step_key}: {entry.user_message}")
            return
        kind = event.event_type
        if kind == PLANNED and event.asset_key is not None:
            self.planned.add(event.asset_key.to_user_string())
        elif kind == MATERIALIZED and event.asset_key is not None:
            self.done.add(event.asset_key.to_user_string())
        elif kind == STEP_START:
            if self.first_step_at is None:
                self.first_step_at = self.clock()
            self.step, self.step_started = event.step_key, self.clock()
            self.say()
        elif kind in STEP_DONE:  # the next step's line follows at once; the run's end prints its own
            if (unsaid := self.warned.pop(event.step_key or "", 0) - WARNINGS_PER_STEP) > 0:
                self.say(
                    f"[warning] {event.step_key}: {unsaid} more warning(s) not shown "
                    "(`-v` prints them all; the run's log in the UI has them)"
                )
            with self.lock:  # the Ticker's thread reads them to print the line
                if event.step_key:
                    self.ended.add(event.step_key)
                if kind == dg.DagsterEventType.STEP_SUCCESS and event.step_key:
                    self.took[event.step_key] = event.step_success_data.duration_ms / 1000
            if kind == dg.DagsterEventType.STEP_FAILURE and event.step_key:
                self.failed.append(event.step_key)
                self.say(f"[progress] {event.step_key} failed")
            self.step, self.step_started = None, None

    def tick(self, every: float | None = None) -> None:
        """Repeat the line if nothing was printed for ``every`` seconds (default: the heartbeat)."""
        if self.clock() - self.last_print >= (self.heartbeat if every is None else every):
            self.say()


class Ticker:
    """A daemon thread calling ``progress.tick(every)`` (default: the progress's heartbeat) every second
    (or every half ``every``, if shorter) until stopped, and ``tend()`` (when given) every ``tend_every``
    seconds; a failing ``tend`` is tried again next time. Within another Ticker of the same progress
    (which repeats the line) its thread only tends."""

    def __init__(
        self,
        progress: Progress,
        every: float | None = None,
        tend: Callable[[], None] | None = None,
        tend_every: float = 5.0,
    ) -> None:
        self.progress, self.every = progress, progress.heartbeat if every is None else every
        self.tend, self.tend_every = tend, tend_every
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, name="nightjar-progress", daemon=True)

    def run(self) -> None:
        tended = self.progress.clock()
        while not self.stop_event.wait(min(1.0, self.every / 2)):
            if self.owner:
                self.progress.tick(self.every)
            if self.tend is not None and self.progress.clock() - tended >= self.tend_every:
                tended = self.progress.clock()
                try:
                    self.tend()
                except Exception:  # e.g. the storage busy (SQLite locked): the next tick tries again
                    pass

    def __enter__(self) -> Ticker:
        self.owner = not self.progress.ticking  # within another Ticker of the same progress: tend only
        if self.owner:
            self.progress.ticking = True
        if self.owner or self.tend is not None:
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.thread.is_alive():
            self.stop_event.set()
            self.thread.join(timeout=5)
        if self.owner:
            self.progress.ticking = False


def printer(stream: TextIO | None = None) -> Callable[[str], None]:
    def print_line(text: str) -> None:
        print(text, file=stream or sys.stdout, flush=True)

    return print_line
