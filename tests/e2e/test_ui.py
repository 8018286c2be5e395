"""The Dagster UI for real: `dagster dev` (webserver + daemon) on PostgreSQL, spoken to through GraphQL.

It loads the code location with every asset, runs the nightly job launched from the API, shows a
sensor tick and a multi-run backfill executed by the daemon, and takes screenshots with headless
Chromium into build/screenshots/ (SCREENSHOTS below).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.core.warehouse import connect
from pipeline.definitions import build_definitions
from pipeline.ingest.sources.local_files import list_files
from tests.conftest import ROOT
from tests.integration.conftest import START, fresh_database, postgres, small_world  # noqa: F401
from tests.integration.dagster_procs import BIN, DagsterDev, dagster_env, dagster_home
from tests.integration.screenshots import Browser, asset_group_url, screenshot_asset_plot

pytestmark = pytest.mark.e2e
SCREENSHOTS = Path(os.environ.get("NIGHTJAR_SCREENSHOTS", ROOT / "build" / "screenshots"))
TRAIN_DAYS = 9
REPO = {"repositoryLocationName": "nightjar", "repositoryName": "__repository__"}
# Dagster's run queue setting (the limits stay those of `concurrency:`): queued runs start sooner
FAST_QUEUE = "\nrun_queue:\n  dequeue_interval_seconds: 1\n"

LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on InvalidSubsetError { message }
  ... on RunConfigValidationInvalid { errors { message } } } }"""
RUNS = """query($f: RunsFilter) { runsOrError(filter: $f) {
  ... on Runs { results { runId status tags { key value } } } } }"""


@pytest.fixture(scope="module")
def live(tmp_path_factory, postgres):  # noqa: F811
    folder = tmp_path_factory.mktemp("ui")
    # 9 days: enough history for a model to train (min_history_days 7 + a label day), see the last test
    config = small_world(folder / "world", days=TRAIN_DAYS)
    home = dagster_home(folder / "home", postgres=True)
    with open(home / "dagster.yaml", "a") as f:  # the daemon looks at the run queue every second, not 5
        f.write(FAST_QUEUE)
    env = dagster_env(home, config, fresh_database(postgres, "ui"))
    dev = DagsterDev(env, folder)
    try:
        dev.wait_until_loaded()
        yield dev, config, env
    finally:
        dev.stop()


def wait_runs(dev: DagsterDev, tags: list[dict], count: int, timeout: float = 180) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = dev.graphql(RUNS, {"f": {"tags": tags}})["runsOrError"]["results"]
        if len(runs) >= count and all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs):
            return runs
        time.sleep(1)
    raise AssertionError(f"{count} runs tagged {tags} did not finish in {timeout}s: {runs} {dev.tail()}")


def test_code_location_loads_with_every_asset(live):
    dev, config, _ = live
    nodes = dev.graphql("{ assetNodes { assetKey { path } groupName } }")["assetNodes"]
    expected = build_definitions(load_config(config)).resolve_asset_graph().get_all_asset_keys()
    assert {"/".join(n["assetKey"]["path"]) for n in nodes} == {k.to_user_string() for k in expected}
    assert len(nodes) >= 10


@pytest.fixture(scope="module")
def nightly_run(live):
    dev, _, _ = live
    params = {
        "selector": {**REPO, "jobName": "nightly"},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": START.isoformat()}]},
    }
    launched = dev.graphql(LAUNCH, {"p": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status = dev.graphql(
            "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", {"id": run_id}
        )["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return run_id, status
        time.sleep(1)
    raise AssertionError(f"run {run_id} still {status}: {dev.tail()}")


def test_a_run_launched_from_the_ui_succeeds(live, nightly_run):
    _, config, _ = live
    assert nightly_run[1] == "SUCCESS"
    with connect(load_config(config).warehouse_path, read_only=True) as con:
        assert (
            con.execute("SELECT count(*) FROM tx_pos WHERE _partition_date = ?", [START]).fetchall()[0][0] > 0
        )
        assert con.execute("SELECT count(*) FROM kpi_purchases").fetchall()[0][0] > 0


def test_screenshots_of_the_asset_graph_and_an_assets_plot(live, nightly_run):
    dev, _, _ = live
    with Browser() as browser:
        browser.open(asset_group_url(dev.url, "customer_360"), wait_for_text="customer_identities")
        graph = browser.screenshot(SCREENSHOTS / "asset-graph.png")
        plot = screenshot_asset_plot(
            browser, dev.url, "kpi_purchases", "plot", SCREENSHOTS / "kpi-purchases-plot.png"
        )
    for png in (graph, plot):
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 30_000, f"{png} looks blank ({len(data)} bytes)"


def test_a_changed_file_gives_one_sensor_tick_run_through_the_daemon(live, nightly_run):
    dev, config, _ = live
    cfg = load_config(config)
    source = cfg.sources[0]
    folder = cfg.resolve(source.folder)
    spec = next(t for t in cfg.transactions if t.source == source.name and t.table == "tx_pos")
    files = [f for t in cfg.transactions for f in list_files(folder, t.file_name, source.date_format)]
    files += list_files(folder, cfg.customers.file_name, source.date_format)
    changed = list_files(folder, spec.file_name, source.date_format)[1]
    selector = {**REPO, "sensorName": f"{source.name}_files_sensor"}
    cursor = json.dumps({f.name: f.identity for f in files}, sort_keys=True)
    res = dev.graphql(
        "mutation($s: SensorSelector!, $c: String) { setSensorCursor(sensorSelector: $s, cursor: $c) "
        "{ __typename } }",
        {"s": selector, "c": cursor},
    )
    assert res["setSensorCursor"]["__typename"] == "Sensor", res
    os.utime(changed.path, (time.time(), time.time() + 5))  # the file "arrives again"
    res = dev.graphql(
        "mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) { __typename } }", {"s": selector}
    )
    assert res["startSensor"]["__typename"] == "Sensor", res
    runs = wait_runs(dev, [{"key": "nightjar/file", "value": changed.name}], 1)
    assert [r["status"] for r in runs] == ["SUCCESS"]
    tags = {t["key"]: t["value"] for t in runs[0]["tags"]}
    assert (
        tags["dagster/sensor_name"] == selector["sensorName"]
        and tags["dagster/partition"] == changed.day.isoformat()
    )
    time.sleep(3)  # no second run for the files it already knows
    assert (
        len(
            dev.graphql(
                RUNS, {"f": {"tags": [{"key": "dagster/sensor_name", "value": selector["sensorName"]}]}}
            )["runsOrError"]["results"]
        )
        == 1
    )


def test_multi_run_backfill_from_the_cli_runs_through_the_daemon_and_changes_nothing_twice(live, nightly_run):
    """`dagster job backfill` queues one run per day; the daemon runs them (the pool serializes their steps).

    It runs before the training test below, which loads the world's other days.

    The range covers days loaded before (by the UI run and the sensor's run): re-running changes nothing.
    """
    dev, config, env = live
    warehouse = load_config(config).warehouse_path
    last = START + dt.timedelta(days=1)
    snapshot = "SELECT _partition_date, count(*), sum(amount) FROM tx_pos GROUP BY 1 ORDER BY 1"
    with connect(warehouse, read_only=True) as con:
        before = con.execute(snapshot).fetchall()
    run = subprocess.run(
        [
            str(BIN / "dagster"),
            "job",
            "backfill",
            "-w",
            str(ROOT / "workspace.yaml"),
            "-j",
            "nightly",
            "--from",
            START.isoformat(),
            "--to",
            last.isoformat(),
            "--noprompt",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    backfill_runs = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        backfill_runs = [
            r
            for r in dev.graphql(RUNS, {"f": {}})["runsOrError"]["results"]
            if any(t["key"] == "dagster/backfill" for t in r["tags"])
        ]
        if len(backfill_runs) == 2 and all(
            r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in backfill_runs
        ):
            break
        time.sleep(1)
    assert sorted(r["status"] for r in backfill_runs) == ["SUCCESS", "SUCCESS"], (backfill_runs, dev.tail())
    parts = sorted(
        next(t["value"] for t in r["tags"] if t["key"] == "dagster/partition") for r in backfill_runs
    )
    assert parts == [START.isoformat(), last.isoformat()]
    with connect(warehouse, read_only=True) as con:
        after = con.execute(snapshot).fetchall()
    assert [r[0] for r in after] == [START, last] and all(r[1] > 0 for r in after)
    assert before and set(before) <= set(after)  # the days loaded before (UI run, sensor run): unchanged


def test_a_training_run_from_the_ui_and_a_screenshot_of_its_plots(live, nightly_run):
    """A single-run range (the world's 9 days) of the data assets and model_purchase_30d, launched through the
    API; the model's materialization carries its metrics and SHAP plots, shown in the UI."""
    dev, config, _ = live
    last = START + dt.timedelta(days=TRAIN_DAYS - 1)
    assets = [
        "tx_pos",
        "tx_web_sessions",
        "tx_campaign_events",
        "customers",
        "customer_identities",
        "events",
        "model_purchase_30d",
    ]
    params = {
        "selector": {**REPO, "jobName": "nightly", "assetSelection": [{"path": [a]} for a in assets]},
        "executionMetadata": {
            "tags": [
                {"key": "dagster/asset_partition_range_start", "value": START.isoformat()},
                {"key": "dagster/asset_partition_range_end", "value": last.isoformat()},
                {"key": "nightjar/test", "value": "training"},
            ]
        },
    }
    launched = dev.graphql(LAUNCH, {"p": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    runs = wait_runs(dev, [{"key": "nightjar/test", "value": "training"}], 1)
    assert [r["status"] for r in runs] == ["SUCCESS"], dev.tail()
    with connect(load_config(config).warehouse_path, read_only=True) as con:
        assert con.execute(
            "SELECT status FROM model_trainings WHERE model = 'purchase_30d' AND version = ?", [last]
        ).fetchall() == [("FINISHED",)]
    with Browser() as browser:
        png = screenshot_asset_plot(
            browser,
            dev.url,
            "model_purchase_30d",
            "plot_feature_impact",
            SCREENSHOTS / "model-training-plot.png",
        )
        assert browser.js("document.body.innerText.includes('auc')")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 30_000, f"{png} looks blank ({len(data)} bytes)"
