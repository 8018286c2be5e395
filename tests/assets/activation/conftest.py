"""The small demo world the activation tests share (built once per session): 150 customers over 10 days,
run as two nightly runs (days 1..9, then day 10) while a reader reads the snapshot in a loop."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import httpx
import pytest
import yaml

from pipeline.activation.publish import current_snapshot
from pipeline.cli import write_demo_config
from pipeline.config import ProjectConfig, load_config
from pipeline.core.sql import sql
from pipeline.core.warehouse import published_folder
from pipeline.demo import generate_world
from tests.conftest import run_nightly

START, DAYS, CUSTOMERS = dt.date(2026, 1, 1), 10, 150
LAST = START + dt.timedelta(days=DAYS - 1)
EXPORTS = [
    {"name": "decisions", "table": "results", "destination": "out/results_{date}.csv"},
    {
        "name": "scores",
        "table": "predictions",
        "destination": "out/scores_{date}.parquet",
        "format": "parquet",
    },
    {
        "name": "credits",
        "table": "attribution",
        "destination": "out/credits_{date}.jsonl",
        "format": "jsonl",
        "columns": ["conversion_id", "model", "channel", "credited_value"],
    },
]


@dataclass
class Reads:
    """What the reader saw: per read, the version and whether every view had its manifest's rows."""

    seen: list[tuple[str, bool]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    held_version: str = ""
    held_rows_after: int = -1


def read_loop(root: Path, stop: threading.Event, reads: Reads) -> None:
    """Open the current snapshot and count every table, again and again, until told to stop."""
    while not stop.is_set():
        snapshot = current_snapshot(root)
        if snapshot is None:
            continue
        try:
            with duckdb.connect(str(snapshot.database), read_only=True) as con:
                counts = {
                    t: con.execute(sql("core/row_count", idents={"table": t})).fetchall()[0][0]
                    for t in snapshot.tables
                }
        except duckdb.Error as e:
            reads.errors.append(f"{snapshot.version}: {e}")
            continue
        reads.seen.append((snapshot.version, counts == {t: e["rows"] for t, e in snapshot.tables.items()}))


@dataclass
class World:
    config: ProjectConfig
    root: Path  # the published folder
    reads: Reads
    first_version: str


@pytest.fixture(scope="session")
def activation_world(tmp_path_factory) -> World:
    out = tmp_path_factory.mktemp("activation")
    generate_world(out, customers=CUSTOMERS, days=DAYS, start=START)
    path = write_demo_config(out, START)
    with path.open("a") as f:  # the nightly runs write these exports too
        f.write(yaml.safe_dump({"exports": EXPORTS}, sort_keys=False))
    config = load_config(path)
    began = time.monotonic()
    assert run_nightly(config, START, LAST - dt.timedelta(days=1)).success
    print(f"\nactivation world: first run {time.monotonic() - began:.1f} s")
    root = published_folder(config.warehouse_path)
    first = current_snapshot(root)
    assert first is not None
    reads, stop = Reads(), threading.Event()
    # a reader holds the first snapshot open through the whole second run, another reads in a loop
    with duckdb.connect(str(first.database), read_only=True) as held:
        thread = threading.Thread(target=read_loop, args=(root, stop, reads), daemon=True)
        thread.start()
        try:
            assert run_nightly(config, LAST).success
        finally:
            stop.set()
            thread.join()
        print(f"activation world: both runs {time.monotonic() - began:.1f} s")
        reads.held_version = first.version
        reads.held_rows_after = held.execute("SELECT count(*) FROM results").fetchall()[0][0]
    return World(config, root, reads, first.version)


KEY = "test-key-0123456789"
OTHER_KEY = "second-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def api(activation_world: World) -> Iterator[str]:
    """`nightjar serve` on a free port of 127.0.0.1; its base URL."""
    port = free_port()
    log = activation_world.root.parent / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "nightjar"),
                "serve",
                "--port",
                str(port),
                "--config",
                str(activation_world.config.base_dir / "nightjar.yaml"),
            ],
            env={**os.environ, "NIGHTJAR_API_KEYS": f"{KEY},{OTHER_KEY}"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        assert KEY not in log.read_text()  # the key is never logged
