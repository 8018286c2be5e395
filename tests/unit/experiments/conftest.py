"""The reference the statistics are checked against: GrowthBook's gbstats, in its own virtualenv
(.cache/gbstats, built once by this fixture: uv if there is one, else the standard library's venv
and pip), spoken to by running gbstats_reference.py there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest

from tests.side_venvs import ensure_venv, run_reference

ROOT = Path(__file__).resolve().parents[3]
GBSTATS_VENV = ROOT / ".cache" / "gbstats"
GBSTATS_PACKAGES = ["gbstats==0.8.0"]
SCRIPT = Path(__file__).with_name("gbstats_reference.py")


@pytest.fixture(scope="session")
def gbstats() -> Callable[[list[dict]], list[dict]]:
    """Runs cases (see gbstats_reference.py) through gbstats; returns its results."""
    python = ensure_venv(GBSTATS_VENV, GBSTATS_PACKAGES)

    def run(cases: list[dict]) -> list[dict]:
        return cast(list[dict], run_reference(python, SCRIPT, cases))

    return run
