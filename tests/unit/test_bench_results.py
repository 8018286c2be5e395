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


def test_the_quick_measurements_run_in_alternated_rounds_where_they_stand():
    from bench.run import ORDER, schedule

    quick = ["nightly_one_day", "ingest_nightjar", "ingest_duckdb_raw", "ingest_polars", "ingest_pandas"]
    order = schedule(ORDER, 3)
    assert order[0] == "backfill_90_days"
    assert order[1:16] == quick * 3
    assert order[16:] == ORDER[6:]
    assert (
        schedule(["ingest_nightjar", "ingest_duckdb_raw"], 2) == ["ingest_nightjar", "ingest_duckdb_raw"] * 2
    )
    assert schedule(["backfill_90_days", "nightly_one_day"], 1) == ["backfill_90_days", "nightly_one_day"]
    assert schedule(["model_training"], 3) == ["model_training"]


def test_the_median_run_is_kept_with_every_runs_time_and_the_ratio_of_each_round_is_shown():
    from bench.run import median_run

    def ran(seconds: float, peak: float) -> dict:
        return {"seconds": seconds, "rows": 100, "peak_mb": peak, "run": "r", "per_dataset": {}}

    nightjar = median_run([ran(5.9, 1.0), ran(5.3, 2.0), ran(5.4, 3.0)])
    assert (nightjar["seconds"], nightjar["peak_mb"], nightjar["runs"]) == (5.4, 3.0, [5.9, 5.3, 5.4])
    assert median_run([ran(2.0, 1.0), ran(1.0, 1.0)])["seconds"] == 1.0  # the lower middle of two
    raw = median_run([ran(5.7, 1.0), ran(4.9, 1.0), ran(4.2, 1.0)])
    assert "error" in median_run([ran(1.0, 1.0), {"error": "failed", "log": "x"}])
    md = render({"1": {"ingest_nightjar": nightjar, "ingest_duckdb_raw": raw, "_meta": {}}}, "")
    assert "| ingest_nightjar | 5.4 s (median of 3: 5.3–5.9) | 100 |" in md
    assert "each the median of 3 alternated rounds" in md
    assert "| each round's ratio |  |  | 0.97, 0.92, 0.78 |" in md
    assert (
        "| ingestion ≥ 0.9 × DuckDB's raw reader (SF1) | 0.91 × (the medians; per round 0.97, 0.92, 0.78) |"
        in md
    )


def test_the_api_under_load_row_shows_its_latencies_and_its_checks_and_its_rate_over_the_load():
    api = {
        "clients": 50,
        "seconds": 40.0,
        "run_seconds": 14.0,
        "requests": 2000,
        "ms": [700.0, 1800.0, 2500.0],
        "per_kind": {"results": [400, 1400.0, 2600.0], "models": [400, 730.0, 1900.0]},
        "errors": 0,
        "retried": 1,
        "mixed": 0,
        "versions": 2,
        "exit": 0,
        "server_peak_mb": 450.0,
        "run_peak_mb": 900.0,
    }
    measured = {"seconds": 14.0, "rows": 2000, "peak_mb": 900.0, "load": [1.0, 2.0], "api": api}
    md = render({"1": {"api_under_load": measured, "_meta": {"machine": "m"}}}, "")
    row = next(line for line in md.splitlines() if line.startswith("| api_under_load |"))
    assert row.startswith("| api_under_load | 14.0 s | 2,000 | 50 | 900 MB |")  # 2,000 requests in 40 s
    assert "**50 clients, 40 s: p50 700 ms, p95 1,800 ms, p99 2,500 ms**" in row
    assert "(p50 / p99 ms: results 1,400 / 2,600, models 730 / 1,900)" in row
    assert "0 errors, 0 stale or mixed results, 2 snapshot version(s) seen" in row
    assert "; 1 request(s) sent again on a new connection" in row
    assert "; peak memory: the server 450 MB, the run 900 MB" in row


def test_each_ingestion_run_writes_a_fresh_warehouse_round_after_round(tmp_path):
    """--repeat runs the ingestion measurements again on the same folder: each run starts from no
    warehouse (not from the previous round's tables and loads)."""
    import datetime as dt

    import duckdb

    from bench.measures import MEASURES
    from pipeline.cli import write_demo_config
    from pipeline.demo import generate_world

    world, out = tmp_path / "world", tmp_path / "warehouses"
    generate_world(world, customers=30, days=2, start=dt.date(2026, 1, 1), seed=7)
    write_demo_config(world, dt.date(2026, 1, 1))
    out.mkdir()
    for name, file in (("ingest_nightjar", "nightjar"), ("ingest_duckdb_raw", "raw")):
        MEASURES[name][0](world, out)
        with duckdb.connect(str(out / f"{file}.duckdb")) as con:
            con.execute("CREATE TABLE left_by_the_round_before (x INT)")
        MEASURES[name][0](world, out)
        with duckdb.connect(str(out / f"{file}.duckdb")) as con:
            tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            loads = con.execute("SELECT count(*) FROM loads").fetchone()[0] if "loads" in tables else 0
        assert "left_by_the_round_before" not in tables, name
        assert loads in (0, 6), (name, loads)  # nightjar: one load per file of the one run (3 kinds × 2 days)


def test_the_ingestion_rows_are_described_as_each_peer_counts_them(tmp_path):
    """Nightjar and polars count every data row of the files; DuckDB's raw reader and pandas skip the
    broken ones, so their rows are fewer, and the text over the table says so."""
    import datetime as dt

    from bench.measures import MEASURES
    from pipeline.cli import write_demo_config
    from pipeline.demo import generate_world

    world = tmp_path / "world"
    generate_world(world, customers=3000, days=5, start=dt.date(2026, 1, 1), seed=7)
    write_demo_config(world, dt.date(2026, 1, 1))
    rows = {n: MEASURES[n][0](world, tmp_path)["rows"] for n in ("ingest_nightjar", "ingest_duckdb_raw")}
    assert rows["ingest_duckdb_raw"] < rows["ingest_nightjar"]
    text = " ".join(render({}, "").split("\n\n")[2].split())
    kept = "DuckDB's raw reader and pandas skip the files' broken rows, so theirs are the rows they kept"
    assert kept in text


def test_the_backfill_starts_without_the_snapshot_an_earlier_backfill_published(tmp_path, monkeypatch):
    """`--only backfill_90_days` keeps the warehouses folder: a snapshot left there would let the
    backfill's publication link the parts it holds rather than write them (not a fresh warehouse)."""
    import datetime as dt

    import pytest

    import pipeline.cli
    from bench.measures import backfill
    from pipeline.cli import write_demo_config
    from pipeline.demo import generate_world

    world, out = tmp_path / "world", tmp_path / "warehouses"
    generate_world(world, customers=30, days=2, start=dt.date(2026, 1, 1), seed=7)
    write_demo_config(world, dt.date(2026, 1, 1))
    kept = out / "published" / "versions" / "20260101T000000-earlier"
    kept.mkdir(parents=True)
    (out / "graph.duckdb").write_text("the earlier backfill's")
    seen = []

    def run(config, first, last, steps):  # what the backfill finds beside its warehouse when it starts
        seen.append((config.warehouse_path.exists(), (out / "published").exists()))
        return False

    monkeypatch.setattr(pipeline.cli, "run_backfill", run)
    with pytest.raises(RuntimeError, match="the backfill failed"):
        backfill(world, out)
    assert seen == [(False, False)]


def test_the_training_measurement_trains_again_the_day_the_backfill_trained(tmp_path):
    """model_training copies the backfilled graph, whose last day's versions are trained; a trained version
    is never recorded again (VersionTrained), so the copy forgets the records of that day alone."""
    import datetime as dt

    from bench.models import untrained
    from pipeline.core.warehouse import connect
    from pipeline.models import training
    from pipeline.models.config import ModelSpec

    warehouse = tmp_path / "graph.duckdb"
    spec = ModelSpec.model_validate(
        {"name": "m", "type": "response", "label": {"rules": [{"transaction": "pos"}]}}
    )
    last, before = dt.date(2026, 3, 31), dt.date(2026, 3, 30)
    with connect(warehouse) as con:
        for version in (before, last):
            training.mark(con, spec, version, training.RUNNING)
            con.execute("UPDATE model_trainings SET status = 'FINISHED' WHERE version = $v", {"v": version})
    untrained(warehouse, last)
    with connect(warehouse) as con:
        rows = con.execute("SELECT version, status FROM model_trainings ORDER BY 1").fetchall()
        training.mark(con, spec, last, training.RUNNING)  # a fresh training of the day may start and record
        status = con.execute("SELECT status FROM model_trainings WHERE version = $v", {"v": last}).fetchall()
    assert rows == [(before, "FINISHED")]
    assert status == [("RUNNING",)]


def test_a_run_says_which_shown_scale_factors_its_results_would_leave_out(tmp_path):
    """RESULTS.md is rendered from its stored figures alone: a scale factor it shows that they do not hold
    (a checkout without them) and that the run does not measure would be dropped from it."""
    from bench.run import unkept_scale_factors

    shown = tmp_path / "RESULTS.md"
    shown.write_text("# Benchmark results\n\n## SF0.1: 10,000\n\n## SF1: 100,000\n\n## SF10: 1,000,000\n")
    assert unkept_scale_factors(shown, {"0.1": {}}, [1.0]) == ["10"]
    assert unkept_scale_factors(shown, {"0.1": {}, "10": {}}, [1.0]) == []
    assert unkept_scale_factors(shown, {}, [0.1, 1, 10]) == []
    assert unkept_scale_factors(tmp_path / "none.md", {}, [1.0]) == []
