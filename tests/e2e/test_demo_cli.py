"""End to end: `nightjar demo` as a user runs it, then the dagster CLI and `nightjar backfill` on its output."""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipeline.resources.warehouse import connect
from tests.conftest import ROOT

START = dt.date(2026, 1, 1)
DAYS = 14
pytestmark = pytest.mark.e2e


def env_for(dagster_home: Path, config: Path | None = None) -> dict:
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    if config:
        env["NIGHTJAR_CONFIG"] = str(config)
    return env


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    nightjar = Path(sys.executable).parent / "nightjar"
    run = subprocess.run(
        [str(nightjar), "demo", "--customers", "2000", "--days", str(DAYS), "--start", START.isoformat(), "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, env=env_for(home), timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return out, home, run.stdout


def q(out: Path, sql: str, params=None):
    with connect(out / "warehouse.duckdb", read_only=True) as con:
        return con.execute(sql, params or {}).fetchall()


def test_demo_prints_progress_and_a_summary(demo):
    out, _, stdout = demo
    assert "[1/3] generating the demo world: 2000 customers, 14 days" in stdout
    assert "[3/3] summary" in stdout
    assert re.search(r"\| tx_pos \| \d+ \|", stdout)
    assert "Rejected rows by reason" in stdout and "Failed loads: 0" in stdout
    assert f"Warehouse: {out / 'warehouse.duckdb'}" in stdout and "make dev" in stdout


def test_demo_warehouse_has_the_expected_tables_and_counts(demo):
    out, _, _ = demo
    tables = {r[0] for r in q(out, "SELECT table_name FROM information_schema.tables")}
    assert tables == {
        "customers", "tx_pos", "tx_web_sessions", "tx_campaign_events", "loads", "rejects", "customer_identities", "events",
        "customer_tables", "kpi_customers", "kpi_reachability", "kpi_events", "kpi_purchases", "kpi_web",
        "kpi_customer_behaviour", "attribution_credits", "attribution_summary", "model_trainings", "model_feature_impact", "model_beeswarm", "model_dependence",
        "predictions",
    }
    truth = list(csv.DictReader((out / "truth" / "customers.csv").open()))
    assert q(out, "SELECT count(*), count(DISTINCT customuid) FROM customers") == [(len(truth), len(truth))]
    per_day = q(out, "SELECT dataset, count(DISTINCT partition_date) FROM loads GROUP BY 1 ORDER BY 1")
    assert per_day == [("campaign_events", DAYS), ("customers", DAYS), ("pos", DAYS), ("web_sessions", DAYS)]
    for table in ("tx_pos", "tx_web_sessions"):
        days = q(out, f"SELECT min(_partition_date), max(_partition_date), count(DISTINCT _partition_date) FROM {table}")
        assert days == [(START, START + dt.timedelta(days=DAYS - 1), DAYS)]
    # no e-mail campaign went out on the first day: its file has only the header
    assert q(out, "SELECT status, rows_read FROM loads WHERE dataset = 'campaign_events' AND partition_date = $d",
             {"d": START}) == [("PROCESSED", 0)]
    assert q(out, "SELECT count(*) FROM loads WHERE status = 'FAILED'") == [(0,)]


def test_every_load_adds_up(demo):
    out, _, _ = demo
    loads = q(out, "SELECT dataset, partition_date, rows_read, rows_loaded, rows_rejected FROM loads")
    assert loads and all(read == loaded + rejected for _, _, read, loaded, rejected in loads)
    for dataset, table, time_field in [("pos", "tx_pos", "purchased_at"), ("web_sessions", "tx_web_sessions", "started_at")]:
        loaded = q(out, f"SELECT sum(rows_loaded) FROM loads WHERE dataset = '{dataset}'")[0][0]
        assert q(out, f"SELECT count(*) FROM {table}") == [(loaded,)]
        outside = q(out, f"SELECT count(*) FROM {table} WHERE CAST({time_field} AS DATE) <> _partition_date")
        assert outside == [(0,)]


def test_every_deliberately_bad_row_is_rejected_with_a_reason_naming_the_field(demo):
    out, _, _ = demo
    bad = list(csv.DictReader((out / "truth" / "bad_rows.csv").open()))
    assert len(bad) > 10
    rejects = {(f, n): (field, reason) for f, n, field, reason in q(out, "SELECT file, row_number, field, reason FROM rejects")}
    for row in bad:
        key = (row["file"], int(row["row_number"]))
        assert key in rejects, row
        field, reason = rejects[key]
        assert field == row["field"] and reason.startswith(row["field"] + ":"), (row, reason)
    assert len(rejects) == len(bad)  # and nothing else was rejected


def test_the_demo_trains_and_scores_its_three_models(demo):
    out, _, _ = demo
    last = START + dt.timedelta(days=DAYS - 1)
    assert q(out, "SELECT model, status FROM model_trainings WHERE version = $d ORDER BY model", {"d": last}) == [
        ("churn_60d", "FINISHED"), ("product_recommender", "FINISHED"), ("purchase_30d", "FINISHED")]
    customers = q(out, "SELECT count(*) FROM customers WHERE NOT starts_with(customuid, 'TEST')")[0][0]
    assert q(out, "SELECT model, count(*), min(version) FROM predictions WHERE date = $d GROUP BY 1 ORDER BY 1", {"d": last}) == [
        ("churn_60d", customers, last), ("product_recommender", customers, last), ("purchase_30d", customers, last)]
    assert (out / "models" / "purchase_30d" / last.isoformat() / "model.txt").is_file()


def test_the_truth_stays_out_of_the_warehouse(demo):
    out, _, _ = demo
    columns = {r[0] for r in q(out, "SELECT column_name FROM information_schema.columns")}
    assert not columns & {"propensity", "churn_risk", "churned_on", "email"}
    hashes = q(out, "SELECT emailsha256 FROM customers WHERE emailsha256 IS NOT NULL")
    assert hashes and all(re.fullmatch(r"[0-9a-f]{64}(,[0-9a-f]{64})*", h) for (h,) in hashes)
    assert q(out, "SELECT count(*) FROM rejects WHERE raw_row LIKE '%@%'") == [(0,)]


def test_the_demo_run_is_kept_for_the_ui(demo):
    _, home, _ = demo
    instance = dg.DagsterInstance.from_config(str(home))
    runs = instance.get_runs()
    assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS
    assert runs[0].tags["dagster/asset_partition_range_start"] == START.isoformat()


def test_dagster_cli_materializes_one_partition(demo):
    out, home, _ = demo
    day = START + dt.timedelta(days=4)
    before = q(out, "SELECT * EXCLUDE (_load_id) FROM tx_pos WHERE _partition_date = $d ORDER BY ALL", {"d": day})
    dagster = Path(sys.executable).parent / "dagster"
    run = subprocess.run(
        [str(dagster), "asset", "materialize", "-m", "pipeline.definitions", "--select", "tx_pos", "--partition", day.isoformat()],
        capture_output=True, text=True, cwd=ROOT, env=env_for(home, out / "nightjar.yaml"), timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    after = q(out, "SELECT * EXCLUDE (_load_id) FROM tx_pos WHERE _partition_date = $d ORDER BY ALL", {"d": day})
    assert after == before and len(after) > 0
    assert q(out, "SELECT count(*) FROM loads WHERE dataset = 'pos' AND partition_date = $d", {"d": day}) == [(2,)]


def test_nightjar_backfill_of_a_range(demo):
    out, home, _ = demo
    first, last = START + dt.timedelta(days=1), START + dt.timedelta(days=2)
    before = q(out, "SELECT count(*) FROM tx_web_sessions")
    nightjar = Path(sys.executable).parent / "nightjar"
    run = subprocess.run(
        [str(nightjar), "backfill", "--from", first.isoformat(), "--to", last.isoformat(), "--config", str(out / "nightjar.yaml")],
        capture_output=True, text=True, cwd=ROOT, env=env_for(home), timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert q(out, "SELECT count(*) FROM tx_web_sessions") == before
    assert q(out, "SELECT count(*) FROM loads WHERE dataset = 'web_sessions' AND partition_date BETWEEN $a AND $b",
             {"a": first, "b": last}) == [(4,)]


# Tables that hold no personal data. Every other table must be registered in customer_tables (or
# have a customer_id / customuid column) so that `nightjar forget` reaches it: a new output table
# fails this test until it registers itself or is added here on purpose.
IMPERSONAL = {"loads", "customer_tables", "forget_log", "kpi_customers", "kpi_reachability", "kpi_events",
              "kpi_purchases", "kpi_web", "attribution_summary", "model_trainings", "model_feature_impact"}
SPECIAL = {"rejects"}  # raw rows: forget matches the customer's identifiers in their text


def test_every_table_of_the_warehouse_is_reached_by_forget_or_holds_no_personal_data(demo):
    out, _, _ = demo
    tables = {r[0] for r in q(out, "SELECT table_name FROM information_schema.tables")}
    registered = {r[0] for r in q(out, "SELECT DISTINCT table_name FROM customer_tables")}
    keyed = {r[0] for r in q(out, "SELECT DISTINCT table_name FROM information_schema.columns "
                                  "WHERE column_name IN ('customer_id', 'customuid')")}
    assert tables - registered - keyed - IMPERSONAL - SPECIAL == set()
    assert {"customers", "customer_identities", "events", "tx_pos", "tx_web_sessions", "tx_campaign_events",
            "kpi_customer_behaviour"} <= registered
