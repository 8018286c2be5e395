"""The reference the statistics are checked against: GrowthBook's gbstats, in its own virtualenv
(tests/side_venvs.py's side_venv, built once by this fixture: uv if there is one, else the standard
library's venv and pip), spoken to through gbstats_reference.py running there: one process a test
session, sent each batch of cases as a line of JSON (importing gbstats, scipy and pandas took 2 s of
CPU a call)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import pytest

from tests.side_venvs import ensure_venv, side_venv

GBSTATS_PACKAGES = ["gbstats==0.8.0"]
GBSTATS_VENV = side_venv("gbstats", GBSTATS_PACKAGES)
SCRIPT = Path(__file__).with_name("gbstats_reference.py")


def reference_env() -> dict[str, str]:
    """The environment of the reference process: bytecode written, so that a later session imports
    gbstats' dependencies from it instead of compiling them again (2 s of CPU instead of 5 s)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@pytest.fixture(scope="session")
def gbstats(tmp_path_factory) -> Iterator[Callable[[list[dict]], list[dict]]]:
    """Runs cases (see gbstats_reference.py) through gbstats; returns its results."""
    python = ensure_venv(GBSTATS_VENV, GBSTATS_PACKAGES)
    errors = tmp_path_factory.mktemp("gbstats") / "stderr.txt"
    with errors.open("w") as err:
        proc = subprocess.Popen(
            [str(python), str(SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=reference_env(),
        )
    stdin, stdout = proc.stdin, proc.stdout
    assert stdin is not None and stdout is not None

    def run(cases: list[dict]) -> list[dict]:
        stdin.write(json.dumps(cases) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"{SCRIPT.name} failed: {errors.read_text()[-3000:]}")
        return cast(list[dict], json.loads(line))

    yield run
    stdin.close()
    proc.wait(timeout=60)
    stdout.close()
