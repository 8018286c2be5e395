"""The experiments tests' world, built once for all their modules."""

from __future__ import annotations

import pytest

from tests.assets.experiments.world import build_world


@pytest.fixture(scope="package")
def world(tmp_path_factory):
    return build_world(tmp_path_factory)
