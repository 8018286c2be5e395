"""The reference `allocation: total` is compared with: ChannelAttribution 2.2.5's `markov_model`, in its
own virtualenv (.cache/channelattribution, built once by this fixture: an sdist compiled with g++, with
matplotlib beside it, which it imports without declaring), spoken to by running
channelattribution_reference.py there."""

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
VENV = ROOT / ".cache" / "channelattribution"
PACKAGES = ["ChannelAttribution==2.2.5", "matplotlib"]
SCRIPT = Path(__file__).with_name("channelattribution_reference.py")


def ensure_venv() -> Path:
    """The python of the ChannelAttribution virtualenv, built into a temporary folder and renamed into
    place (two test workers may build it at once; the first rename wins). The first build compiles
    the package: about 2 minutes here."""
    python = VENV / "bin" / "python"
    if (VENV / ".installed").exists():
        return python
    tmp = VENV.with_name(f"channelattribution.tmp-{os.getpid()}")
    base = getattr(sys, "_base_executable", sys.executable)
    uv, tmp_python = uv_command(), str(tmp / "bin" / "python")
    steps = (
        [
            [*uv, "venv", "-q", "--clear", "--python", base, str(tmp)],
            [*uv, "pip", "install", "-q", "--python", tmp_python, *PACKAGES],
        ]
        if uv
        else [
            [base, "-m", "venv", "--clear", str(tmp)],
            [tmp_python, "-m", "pip", "install", "-q", *PACKAGES],
        ]
    )
    for step in steps:
        run = subprocess.run(step, capture_output=True, text=True)
        if run.returncode != 0:
            command = " ".join(step[:4])
            raise RuntimeError(
                f"cannot build the ChannelAttribution virtualenv ({command} ...): {run.stderr[-2000:]}"
            )
    (tmp / ".installed").write_text(" ".join(PACKAGES))
    try:
        tmp.rename(VENV)
    except OSError:  # another worker's venv is in place
        shutil.rmtree(tmp, ignore_errors=True)
    return python


@pytest.fixture(scope="session")
def channelattribution() -> Callable[[list[dict]], list[dict]]:
    """Runs cases (see channelattribution_reference.py) through ChannelAttribution; returns its results."""
    python = ensure_venv()

    def run(cases: list[dict]) -> list[dict]:
        out = subprocess.run(
            [str(python), str(SCRIPT)], input=json.dumps(cases), capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            raise RuntimeError(f"channelattribution_reference.py failed: {out.stderr[-3000:]}")
        return json.loads(out.stdout.splitlines()[-1])  # the package prints a banner when imported

    return run
