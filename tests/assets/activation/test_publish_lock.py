"""Two publications at once, in two processes (two `nightjar` commands, a run and `nightjar forget`): one
waits for the other, so neither removes the other's unfinished version nor the versions it keeps."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from pipeline.activation.publish import MANIFEST, VERSIONS, PublishError, current_snapshot, publish
from pipeline.core.warehouse import connect

# Publishes on 2026-02-01, pausing once its version is in versions/ (renamed, without its manifest yet)
# until a line arrives on stdin; prints its version when done.
PAUSED = """
import datetime as dt, sys
import duckdb
import pipeline.activation.publish as p
views = p._create_views
def paused(*args):
    print("renamed", flush=True)
    sys.stdin.readline()
    views(*args)
p._create_views = paused
with duckdb.connect(sys.argv[1], read_only=True) as con:
    print("version", p.publish(con, sys.argv[1], dt.datetime(2026, 2, 1, tzinfo=dt.UTC)).version, flush=True)
"""
# Publishes on 2026-02-02, saying what it does (the `log` of a run's `published` step) on stdout.
PLAIN = """
import datetime as dt, sys
import duckdb
import pipeline.activation.publish as p
with duckdb.connect(sys.argv[1], read_only=True) as con:
    snapshot = p.publish(con, sys.argv[1], dt.datetime(2026, 2, 2, tzinfo=dt.UTC), log=print)
    print("version", snapshot.version, flush=True)
"""


def _warehouse(tmp_path: Path) -> Path:
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "CREATE TABLE results AS "
            "SELECT DATE '2026-01-01' + (i % 2)::INT AS date, i AS n FROM range(4) t(i)"
        )
    return warehouse


def _start(script: str, warehouse: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _lines(process: subprocess.Popen) -> queue.Queue:
    """The process's stdout lines as they come (None at its end)."""
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line.strip())
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def test_a_second_publication_waits_for_the_first_and_removes_nothing_of_it(tmp_path):
    # without a lock the second one's cleanup took the first one's version (in versions/, without its
    # manifest yet) for a killed publication's and removed it: the first then failed
    warehouse = _warehouse(tmp_path)
    root = tmp_path / "published"
    first = _start(PAUSED, warehouse)
    second = None
    try:
        assert first.stdout.readline().strip() == "renamed"
        second = _start(PLAIN, warehouse)
        said = _lines(second)
        # the second one says it waits (or, without a lock, publishes to the end)
        while (line := said.get(timeout=60)) is not None and not line.startswith("waiting"):
            pass
        first.stdin.write("\n")
        first.stdin.flush()
        first_out, first_err = first.communicate(timeout=60)
        assert second.wait(timeout=60) == 0, second.stderr.read()
    finally:
        for p in (first, second):
            if p and p.poll() is None:
                p.kill()
                p.wait()
    assert first.returncode == 0, first_err
    kept = sorted(p.name for p in (root / VERSIONS).iterdir())
    assert len(kept) == 2 and all((root / VERSIONS / v / MANIFEST).is_file() for v in kept), kept
    assert first_out.split() == ["version", kept[0]]
    assert current_snapshot(root).version == kept[1]  # the second one, published after the first
    for version in kept:  # each reads whole
        with duckdb.connect(str(root / VERSIONS / version / "snapshot.duckdb"), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM results").fetchall() == [(4,)]


def test_a_publication_that_waits_too_long_fails_in_one_line_naming_the_other(tmp_path):
    warehouse = _warehouse(tmp_path)
    first = _start(PAUSED, warehouse)
    try:
        assert first.stdout.readline().strip() == "renamed"
        with connect(warehouse, read_only=True) as con, pytest.raises(PublishError) as failed:
            publish(con, warehouse, lock_wait=0.5)
    finally:
        first.kill()
        first.wait()
    message = str(failed.value)
    assert len(message.splitlines()) == 1
    assert f"another publication of {tmp_path / 'published'} (process {first.pid} (python" in message
    assert "0.5 s" in message
    assert [p.name for p in (tmp_path / "published" / VERSIONS).iterdir()] != []  # the first one's, untouched
