"""bench/RESULTS.md as rendered from the stored figures: what a runner noted, totals kept in place of
steps, and only what was run above SF1."""

from __future__ import annotations

from bench.run import render


def test_a_note_and_a_kept_total_are_printed_and_unrun_measurements_above_sf1_are_left_out():
    backfill = {
        "seconds": 100.0,
        "rows": 10,
        "peak_mb": 1.0,
        "load": [1.0, 1.0],
        "date": "2026-12-06 11:49 UTC",
        "run": "2026-12-06 10:36 UTC",
        "note": "paused for 5 s",
        "steps": {"_attribution": 60.0, "(3 other steps, not kept)": 40.0},
    }
    md = render({"10": {"backfill_90_days": backfill, "_meta": {"machine": "m"}}}, "")
    section = md.split("## Targets")[0]
    assert "backfill_90_days: paused for 5 s" in section
    assert "| _attribution | 60.0 s | 60% |\n| (3 other steps, not kept) | 40.0 s | 40% |" in section
    assert "ingest_nightjar" not in section and "not measured yet" not in section


def test_the_load_cell_shows_other_processes_cpu_against_the_measurements_own():
    measured = {"seconds": 10.0, "rows": 10, "peak_mb": 1.0, "load": [3.1, 3.0]}
    measured |= {"cpu_seconds": 18.5, "others_cpu_seconds": 0.4, "stolen_seconds": 0.1}
    md = render({"1": {"ingest_nightjar": measured, "_meta": {"machine": "m"}}}, "")
    assert "| 3.1 → 3.0; others 0.4 / own 18.5 CPU s, stolen 0.1 s |" in md


def test_busy_time_counts_this_process_cpu_in_seconds():
    """The kernel's busy seconds grow at least by what this process spent and at most by every core's wall."""
    import os
    import time

    from bench.measures import _cpu_seconds, _own_cpu_seconds

    wall, (busy, _), own = time.perf_counter(), _cpu_seconds(), _own_cpu_seconds()
    while _own_cpu_seconds() - own < 0.3:  # spin for 0.3 s of CPU
        pass
    spent, grew = _own_cpu_seconds() - own, _cpu_seconds()[0] - busy
    assert spent >= 0.3
    assert spent - 0.05 <= grew <= (time.perf_counter() - wall) * os.cpu_count() + 0.05
