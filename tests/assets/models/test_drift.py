"""Drift checks on the demo world: the night's PSI of each response/churn model's score and top
features against its training population, and a planted shift in a feed that turns the check red."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from pipeline.config import parse_config
from pipeline.core.warehouse import connect
from tests.assets.models.conftest import LAST, copy_world
from tests.conftest import run_nightly

CHECKS = {"purchase_30d": "drift_purchase_30d", "churn_60d": "drift_churn_60d"}


def drift_checks(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        e.check_name: e
        for e in result.get_asset_check_evaluations()
        if e.asset_key == dg.AssetKey("predictions") and e.check_name.startswith("drift_")
    }


def test_the_nights_drift_is_measured_per_model(world):
    """The reference of each check is the version's training population as scored on the version's
    night (training.night_features), not at its cut-off: on this young world (56 days, feature windows
    up to 365) the cut-off's customers are 30 days younger than tonight's, a shift of recency and
    tenure alone (it made churn_60d's check fail on days_since_first_event, PSI 4.5). The demo trains
    and scores on the same night, so what differs tonight is the customers who signed up since the
    cut-off: both checks pass (measured: max PSI 0.00x)."""
    config, result = world
    checks = drift_checks(result)
    assert set(checks) == set(CHECKS.values())  # the recommender and the clv model have none
    for check in checks.values():
        meta = check.metadata
        assert meta["max_psi"].value >= 0 and meta["psi_score"].value >= 0
        # the score and the numeric ones of the 5 most important features
        assert 2 <= len([k for k in meta if k.startswith("psi_")]) <= 1 + 5
        print(f"\n{check.check_name}: max PSI {meta['max_psi'].value:.3f} ({meta['worst_column'].value})")
        assert check.passed and meta["max_psi"].value <= 0.1, check.check_name


def test_a_planted_shift_in_a_feed_turns_the_drift_check_red(world, tmp_path):
    """The web sessions feed sends every session of the last 90 days three times: the session counts
    (purchase_30d's top features) and the scores of the night move far from the training
    population's, and the check fails (ERROR)."""
    config, _ = world
    copy = parse_config(copy_world(config, tmp_path), config.base_dir / "nightjar.yaml", config.base_dir)
    with connect(copy.warehouse_path) as con:
        con.execute(
            "INSERT INTO events SELECT e.* REPLACE (e.event_id || ':again' || r.n AS event_id) "
            "FROM events e, range(2) AS r(n) "
            "WHERE e.source = 'web_sessions' AND e._partition_date > $d::DATE - 90",
            {"d": LAST},
        )
    result = run_nightly(copy, LAST, assets=["predictions"])
    assert result.success
    check = drift_checks(result)[CHECKS["purchase_30d"]]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["max_psi"].value > 0.25
    print(
        f"\nplanted: max PSI {check.metadata['max_psi'].value:.3f} ({check.metadata['worst_column'].value})"
    )


def test_the_models_of_a_run_compute_the_nights_features_once(world, monkeypatch):
    """The drift reference (training.night_features) of the response and churn models, which have
    the same feature windows, is computed once in a run, equals each model's own computation, and is
    let go once both have read it."""
    from pipeline.models import predict, training

    config, _ = world
    computed = []
    own = predict.feature_frame
    monkeypatch.setattr(predict, "feature_frame", lambda *a, **k: computed.append(a[2]) or own(*a, **k))
    specs = [config.model("purchase_30d"), config.model("churn_60d")]
    with connect(config.warehouse_path, read_only=True) as con:
        prepared = {s.name: training.prepare(con, config, s, LAST) for s in specs}
        alone = {s.name: training.night_features(con, s, prepared[s.name]) for s in specs}
        assert len(computed) == 2
        shared = {
            s.name: training.night_features(con, s, prepared[s.name], "run 1", config.models) for s in specs
        }
        assert len(computed) == 3 and not training._SHARED_NIGHT["run 1"][0]
        again = training.night_features(con, specs[0], prepared[specs[0].name], "run 2", config.models)
    assert len(computed) == 4 and list(training._SHARED_NIGHT) == ["run 2"]  # another run: its own
    for s in specs:
        pd.testing.assert_frame_equal(shared[s.name], alone[s.name])
    pd.testing.assert_frame_equal(again, alone[specs[0].name])


def test_a_feature_that_vanishes_from_the_night_is_measured_not_skipped(world, tmp_path):
    """The web sessions feed stops for the last week: no customer has a session in the last 7 days, so
    the night's features have no count_web_sessions_7d column at all; the model scores it as 0 (as it
    does every missing count), and the drift check measures those zeros against the training
    population's counts (it used to leave the column out of the check, PSI and all)."""
    config, _ = world
    copy = parse_config(copy_world(config, tmp_path), config.base_dir / "nightjar.yaml", config.base_dir)
    with connect(copy.warehouse_path) as con:
        con.execute(
            "DELETE FROM events WHERE source = 'web_sessions' AND _partition_date > $d::DATE - 7", {"d": LAST}
        )
    result = run_nightly(copy, LAST, assets=["predictions"])
    assert result.success
    meta = drift_checks(result)[CHECKS["churn_60d"]].metadata
    print(f"\nstopped feed: psi_count_web_sessions_7d {meta['psi_count_web_sessions_7d'].value:.3f}")
    assert meta["psi_count_web_sessions_7d"].value > 0.25
