"""What the fixtures that build a reference tool's own virtualenv (gbstats, ChannelAttribution,
lifetimes, the BigQuery emulator) share: the uv command, the build, and running a reference script.

The reference tools' virtualenvs live outside the checkout (:func:`side_venv`), so that a fresh clone
reuses them: ChannelAttribution alone compiles for about a minute of CPU."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def uv_command() -> list[str] | None:
    """A uv command (the Makefile installs uv into the machine's python3), or None."""
    for cmd in (
        [shutil.which("uv")],
        [getattr(sys, "_base_executable", sys.executable), "-m", "uv"],
        ["python3", "-m", "uv"],
    ):
        if cmd[0] and subprocess.run([*cmd, "--version"], capture_output=True).returncode == 0:
            return cmd
    return None


def side_venv(name: str, packages: list[str]) -> Path:
    """Where the virtualenv of a reference tool with ``packages`` lives: in the user's cache
    ($XDG_CACHE_HOME or ~/.cache, under nightjar-tests/), named by the tool and its packages, so that
    another package list is another virtualenv."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nightjar-tests"
    return cache / f"{name}-{hashlib.sha256(' '.join(packages).encode()).hexdigest()[:12]}"


def ensure_venv(venv: Path, packages: list[str]) -> Path:
    """The python of a reference tool's own virtualenv at ``venv`` with ``packages``, built into a
    temporary folder and renamed into place (two test workers may build it at once; the first rename
    wins): uv if there is one, else the standard library's venv and pip. The packages are installed
    with their bytecode compiled: a machine with PYTHONDONTWRITEBYTECODE set would otherwise compile
    scipy and pandas from source in every reference process (seconds each)."""
    python = venv / "bin" / "python"
    if (venv / ".installed").exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    tmp = venv.with_name(f"{venv.name}.tmp-{os.getpid()}")
    base = getattr(sys, "_base_executable", sys.executable)
    uv, tmp_python = uv_command(), str(tmp / "bin" / "python")
    steps = (
        [
            [*uv, "venv", "-q", "--clear", "--python", base, str(tmp)],
            [*uv, "pip", "install", "-q", "--compile-bytecode", "--python", tmp_python, *packages],
        ]
        if uv
        else [
            [base, "-m", "venv", "--clear", str(tmp)],
            [tmp_python, "-m", "pip", "install", "-q", *packages],
        ]
    )
    for step in steps:
        run = subprocess.run(step, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(
                f"cannot build the {venv.name} virtualenv ({' '.join(step[:4])} ...): {run.stderr[-2000:]}"
            )
    (tmp / ".installed").write_text(" ".join(packages))
    try:
        tmp.rename(venv)
    except OSError:  # another worker's venv is in place
        shutil.rmtree(tmp, ignore_errors=True)
    return python


def run_reference(python: Path, script: Path, case: object) -> object:
    """Run a reference script in its virtualenv with ``case`` as JSON on stdin; its answer is the JSON
    of the last line it prints (some packages print a banner when imported)."""
    out = subprocess.run([str(python), str(script)], input=json.dumps(case), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{script.name} failed: {out.stderr[-3000:]}")
    return json.loads(out.stdout.splitlines()[-1])
