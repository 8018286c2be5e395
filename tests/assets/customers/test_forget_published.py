"""`nightjar forget` and what people read: the published snapshot (`nightjar serve`, notebooks) and the
HTML report beside the warehouse hold no row of a forgotten customer once the command is done."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb

from pipeline.activation.publish import CURRENT, VERSIONS, current_snapshot
from pipeline.cli import main, write_demo_config
from pipeline.config import load_config
from pipeline.core.warehouse import connect, published_folder, scalar
from pipeline.demo import generate_world
from tests.assets.customers.test_forget import busy_customer
from tests.conftest import run_nightly

START = dt.date(2026, 1, 1)


def rows_of(database: Path, customer_id: str) -> dict[str, int]:
    """Per view of a published version with a customer_id column, its rows of the customer (if any)."""
    with duckdb.connect(str(database), read_only=True) as con:
        views = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT table_name FROM information_schema.columns WHERE column_name = 'customer_id'"
            ).fetchall()
        ]
        counts = {
            v: con.execute(
                f'SELECT count(*) FROM "{v}" WHERE customer_id = $c', {"c": customer_id}
            ).fetchall()
            for v in views
        }
    return {v: n[0][0] for v, n in counts.items() if n[0][0]}


def versions(root: Path) -> list[Path]:
    return sorted(p for p in (root / VERSIONS).iterdir() if not p.name.startswith("."))


def test_forget_publishes_again_without_the_customer_and_keeps_no_version_that_holds_them(tmp_path):
    generate_world(tmp_path, customers=40, days=2, start=START)
    config = load_config(write_demo_config(tmp_path, START)).model_copy(update={"models": []})
    for day in (START, START + dt.timedelta(days=1)):  # two nights: two published versions
        assert run_nightly(config, day).success
    root = published_folder(config.warehouse_path)
    with connect(config.warehouse_path, read_only=True) as con:
        who = busy_customer(con)
    assert len(versions(root)) == 2
    customers = current_snapshot(root).tables["customers"]["rows"]
    assert all(rows_of(v / "snapshot.duckdb", who) for v in versions(root))  # the test sees them

    assert main(["forget", who, "--kind", "customer_id", "--config", str(tmp_path / "nightjar.yaml")]) == 0

    # a new version without the customer is current, and no older version (which held them) is left
    current = current_snapshot(root)
    assert current is not None and [p.name for p in versions(root)] == [current.version]
    assert (root / CURRENT).resolve() == current.folder
    assert rows_of(current.database, who) == {}
    assert current.tables["customers"]["rows"] == customers - 1
    # the report beside the warehouse is written again from it
    report = tmp_path / "reports" / "index.html"
    assert report.stat().st_mtime >= current.folder.stat().st_mtime
    assert who not in report.read_text(encoding="utf-8")


# `nightjar forget`, killed once it has written its new version, before that version is current
KILLED_IN_ITS_REPUBLISH = """
import os, sys
import pipeline.activation.publish as p
from pipeline.cli import main
p.switch = lambda *_: os._exit(9)
main(sys.argv[1:])
"""


def test_a_forget_killed_before_its_republish_ends_is_finished_by_the_next_publication(tmp_path):
    # the deletion was committed, then the republish died: the older versions served the customer's
    # rows, and the next run's publication kept them (the last 3 versions) for two more nights
    generate_world(tmp_path, customers=40, days=2, start=START)
    config = load_config(write_demo_config(tmp_path, START)).model_copy(update={"models": []})
    for day in (START, START + dt.timedelta(days=1)):
        assert run_nightly(config, day).success
    root = published_folder(config.warehouse_path)
    with connect(config.warehouse_path, read_only=True) as con:
        who = busy_customer(con)
    nights = versions(root)
    forget = ["forget", who, "--kind", "customer_id", "--config", str(tmp_path / "nightjar.yaml")]
    killed = subprocess.run([sys.executable, "-c", KILLED_IN_ITS_REPUBLISH, *forget], check=False)
    assert killed.returncode == 9
    with connect(config.warehouse_path, read_only=True) as con:  # forgotten in the warehouse
        assert scalar(con, "SELECT count(*) FROM events WHERE customer_id = $c", {"c": who}) == 0
    assert all(rows_of(v / "snapshot.duckdb", who) for v in nights)  # still served by both nights' versions

    assert run_nightly(config, START + dt.timedelta(days=1), assets=["published"]).success

    serving = {v.name: rows for v in versions(root) if (rows := rows_of(v / "snapshot.duckdb", who))}
    assert serving == {}  # no version serves the customer any more
    current = current_snapshot(root)
    assert current is not None and [p.name for p in versions(root)] == [current.version]
    with connect(config.warehouse_path, read_only=True) as con:  # done: the next one keeps versions again
        assert scalar(con, "SELECT count(*) FROM forget_pending") == 0
