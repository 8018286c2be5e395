"""What has nothing configured is not built: no step of any run spends time on it."""

from __future__ import annotations

from pipeline.definitions import build_definitions
from tests.conftest import make_config

ATTRIBUTION = {"attribution_credits", "attribution_summary"}
EXPERIMENTS = {"results", "conversions", "experiment_report", "policy_evaluation"}


def asset_keys(config) -> set[str]:
    graph = build_definitions(config).resolve_asset_graph()
    return {k.to_user_string() for k in graph.get_all_asset_keys()}


def test_attribution_without_conversions_and_experiments_without_an_experiment_are_not_built(tmp_path):
    full = asset_keys(make_config(tmp_path / "full"))
    assert ATTRIBUTION | EXPERIMENTS <= full  # the example declares both
    bare = asset_keys(
        make_config(tmp_path / "bare", experiments=[], groups=[], conversions={}, attribution={})
    )
    assert bare == full - ATTRIBUTION - EXPERIMENTS
    only_touches = {"touchpoints": [{"type": "web_sessions"}]}  # touches but no conversion: nothing to credit
    assert not ATTRIBUTION & asset_keys(make_config(tmp_path / "touches", attribution=only_touches))
    assert "events" in bare and "kpi_purchases" in bare
