"""An export killed mid-write (SIGKILL, a real process) leaves its staged file behind; the next export of
the same file removes it, and never a staged file of an export at work, of another file, or anything
else."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import pipeline.activation.destinations as destinations
from pipeline.activation.exports import export_to
from pipeline.activation.staging import is_staged, remove_abandoned, staged_name, staging
from pipeline.core.sql import sql
from pipeline.core.warehouse import connect
from tests.conftest import example_dict, make_config
from tests.unit.activation.test_export_delivery import DAY, PARTNER

# `nightjar export`, stopped for good once the file is written (before it is delivered): the test kills it
EXPORT = """
import pathlib, sys, time
import pipeline.activation.exports as exports
import pipeline.activation.destinations as destinations
from pipeline.cli import main

def stop(*args, **kwargs):
    pathlib.Path(sys.argv[1]).write_text("written")
    time.sleep(600)

if sys.argv[2].startswith("sftp://"):
    destinations.deliver = stop
else:
    write = exports.write_export
    exports.write_export = lambda *a, **k: (write(*a, **k), stop())[0]
main(["export", "results", "--date", "2026-01-09", "--to", sys.argv[2], "--config", sys.argv[3]])
"""


@pytest.fixture
def config(tmp_path: Path):
    config = make_config(tmp_path, sources=[*example_dict()["sources"], PARTNER])
    with connect(config.warehouse_path) as con:
        con.execute(sql("experiments/create_results"))
        con.execute(
            "INSERT INTO results (date, customer_id, experiment, variant, is_control, score, reason) "
            "SELECT $day, 'C' || i, 'offer', 'discount_10', false, 0.5, 'r' FROM range(1000) t(i)",
            {"day": DAY},
        )
    return config


def start_export(config, to: str, tmp: Path) -> tuple[subprocess.Popen, Path]:
    """`nightjar export ... --to to` in a process of its own (temporary folder ``tmp``), once it has
    written its file."""
    written = tmp.parent / "written"
    env = {**os.environ, "TMPDIR": str(tmp), "PARTNER_PASSWORD": "secret"}
    args = [sys.executable, "-c", EXPORT, str(written), to, str(config.base_dir / "nightjar.yaml")]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not written.exists():
        assert proc.poll() is None, proc.communicate()[0].decode()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return proc, written


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)


def test_a_killed_local_export_leaves_a_staged_file_the_next_export_removes(config, tmp_path: Path):
    # the killed export's file stayed for good (in a nightjar-export-* folder of the temporary folder,
    # or beside the target as .results.csv.partial-<hex> when killed while copying it there)
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    tmp.mkdir()
    target = out / "results.csv"
    proc, _ = start_export(config, str(target), tmp)
    try:
        staged = [p for p in [*out.iterdir(), *tmp.iterdir()] if p.name != target.name]
        assert staged and not target.exists()
        # an export at work: another export of the file meanwhile leaves its staged file alone
        assert export_to(config, config.warehouse_path, DAY, str(target))[0] == 1000
        assert all(p.exists() for p in staged)
    finally:
        kill(proc)
    expected = target.read_bytes()
    target.unlink()
    others = {  # not a staged file of results.csv: left as they are
        ".results.csv.partial": b"another program's",
        ".other.csv.partial-0123abcd": b"a staged file of another file",
        "results.csv.partial-0123abcd": b"not hidden: not ours",
        ".results.csv.partial-0123abcg": b"not hex: not ours",
    }
    for name, data in others.items():
        (out / name).write_bytes(data)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_bytes(b"kept")
    (out / ".results.csv.partial-89abcdef").symlink_to(elsewhere)  # never followed
    assert export_to(config, config.warehouse_path, DAY, str(target))[0] == 1000
    assert target.read_bytes() == expected
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [target.name, ".results.csv.partial-89abcdef", *others]
    )
    assert {n: (out / n).read_bytes() for n in others} == others
    assert (elsewhere / "keep").read_bytes() == b"kept" and list(tmp.iterdir()) == []


def test_a_killed_remote_export_leaves_a_staged_file_the_next_export_removes(
    config, tmp_path: Path, monkeypatch
):
    # a remote export's file is written in the temporary folder first: the killed one's stayed there
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    to = "sftp://partner/results_{date}.csv"
    proc, _ = start_export(config, to, tmp)
    kill(proc)
    assert len(left := list(tmp.iterdir())) == 1
    assert [p.name for p in left[0].iterdir()] == ["results_20260109.csv"]
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.setattr(
        destinations, "deliver", lambda config, dest, local, *a, **k: str(local.stat().st_size)
    )
    monkeypatch.setenv("PARTNER_PASSWORD", "secret")
    export_to(config, config.warehouse_path, DAY, "sftp://partner/other_{date}.csv")
    assert list(tmp.iterdir()) == left  # another destination's: not this export's to remove
    export_to(config, config.warehouse_path, DAY, to)
    assert list(tmp.iterdir()) == []


def test_a_staged_name_is_only_its_files():
    name = staged_name("results.csv")
    assert is_staged(name, "results.csv") and len(name) == len(".results.csv.partial-") + 8
    assert not is_staged(name, "results.cs") and not is_staged(name, "esults.csv")
    assert not is_staged(".results.csv.partial", "results.csv")


def test_a_staging_folder_is_kept_while_its_writer_holds_it(tmp_path: Path):
    with staging(tmp_path, "r.csv") as held:
        (held / "r.csv").write_bytes(b"half")
        assert remove_abandoned(tmp_path, "r.csv") == []  # its writer is at work
        assert (held / "r.csv").read_bytes() == b"half"
    assert list(tmp_path.iterdir()) == []


def test_a_file_system_without_locks_stages_and_removes_nothing(tmp_path: Path, monkeypatch):
    import errno

    import pipeline.activation.staging as staging_module

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    left = tmp_path / staged_name("r.csv")
    left.mkdir()
    monkeypatch.setattr(staging_module.fcntl, "flock", no_locks)
    with staging(tmp_path, "r.csv") as held:  # the export works, without the lock
        (held / "r.csv").write_bytes(b"whole")
    assert list(tmp_path.iterdir()) == [left]  # whose writer it was cannot be known: left alone
