"""The reference `allocation: total` is compared with: ChannelAttribution 2.2.5's `markov_model`, in its
own virtualenv (tests/side_venvs.py's side_venv, built once by this fixture: an sdist compiled with g++, with
matplotlib beside it, which it imports without declaring), spoken to by running
channelattribution_reference.py there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest

from tests.side_venvs import ensure_venv, run_reference, side_venv

PACKAGES = ["ChannelAttribution==2.2.5", "matplotlib"]
VENV = side_venv("channelattribution", PACKAGES)
SCRIPT = Path(__file__).with_name("channelattribution_reference.py")


@pytest.fixture(scope="session")
def channelattribution() -> Callable[[list[dict]], list[dict]]:
    """Runs cases (see channelattribution_reference.py) through ChannelAttribution; returns its results."""
    python = ensure_venv(VENV, PACKAGES)  # the first build compiles the package: about 2 minutes

    def run(cases: list[dict]) -> list[dict]:
        return cast(list[dict], run_reference(python, SCRIPT, cases))

    return run
