"""The reference the statistics are checked against: GrowthBook's gbstats, in its own virtualenv
(.cache/gbstats, built once by this fixture: uv if there is one, else the standard library's venv
and pip), spoken to by running gbstats_reference.py there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.side_venvs import uv_command

ROOT = Path(__file__).resolve().parents[3]
GBSTATS_VENV = ROOT / ".cache" / "gbstats"
GBSTATS_PACKAGES = ["gbstats==0.8.0"]
SCRIPT = Path(__file__).with_name("gbstats_reference.py")


def ensure_gbstats_venv() -> Path:
    """The python of the gbstats virtualenv, built into a temporary folder and renamed into place
    (two test workers may build it at once; the first rename wins)."""
    python = GBSTATS_VENV / "bin" / "python"
    if (GBSTATS_VENV / ".installed").exists():
        return python
    tmp = GBSTATS_VENV.with_name(f"gbstats.tmp-{os.getpid()}")
    base = getattr(sys, "_base_executable", sys.executable)
    uv, tmp_python = uv_command(), str(tmp / "bin" / "python")
    steps = (
        [
            [*uv, "venv", "-q", "--clear", "--python", base, str(tmp)],
            [*uv, "pip", "install", "-q", "--python", tmp_python, *GBSTATS_PACKAGES],
        ]
        if uv
        else [
            [base, "-m", "venv", "--clear", str(tmp)],
            [tmp_python, "-m", "pip", "install", "-q", *GBSTATS_PACKAGES],
        ]
    )
    for step in steps:
        run = subprocess.run(step, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(
                f"cannot build the gbstats virtualenv ({' '.join(step[:4])} ...): {run.stderr[-2000:]}"
            )
    (tmp / ".installed").write_text(" ".join(GBSTATS_PACKAGES))
    try:
        tmp.rename(GBSTATS_VENV)
    except OSError:  # another worker's venv is in place
        shutil.rmtree(tmp, ignore_errors=True)
    return python


@pytest.fixture(scope="session")
def gbstats() -> Callable[[list[dict]], list[dict]]:
    """Runs cases (see gbstats_reference.py) through gbstats; returns its results."""
    python = ensure_gbstats_venv()

    def run(cases: list[dict]) -> list[dict]:
        out = subprocess.run(
            [str(python), str(SCRIPT)], input=json.dumps(cases), capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            raise RuntimeError(f"gbstats_reference.py failed: {out.stderr[-3000:]}")
        return json.loads(out.stdout)

    return run
