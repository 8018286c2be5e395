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
