"""Explanations on the demo world: the stored beeswarm against LightGBM's pred_contrib, and the
dependence of the score on any feature (the function the read API calls, and `nightjar explain
--dependence`)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.core.warehouse import connect
from pipeline.models import store, training
from pipeline.models.dependence import feature_dependence
from pipeline.models.features import customer_features, model_input
from pipeline.models.predict import align
from tests.assets.models.conftest import LAST


def test_the_beeswarm_holds_pred_contrib_of_the_test_customers_training_rows(world):
    config, _ = world
    spec = config.model("purchase_30d")
    booster, meta = store.load(config.warehouse_path.parent / "models", spec.name, LAST)
    with connect(config.warehouse_path, read_only=True) as con:
        swarm = con.execute(
            "SELECT customer_id, feature, value, shap FROM model_beeswarm WHERE model = $m AND version = $v",
            {"m": spec.name, "v": LAST},
        ).df()
        prepared = training.prepare(con, config, spec, LAST)
    assert swarm["customer_id"].nunique() > 100 and swarm["feature"].nunique() == 10
    X = prepared.X.loc[swarm["customer_id"].unique()]
    contrib = booster.predict(
        model_input(X, booster), pred_contrib=True, num_iteration=meta["best_iteration"] or None
    )
    columns = {f: j for j, f in enumerate(meta["features"])}
    rows = {c: i for i, c in enumerate(X.index)}
    i = swarm["customer_id"].map(rows).to_numpy()
    j = swarm["feature"].map(columns).to_numpy()
    assert np.abs(contrib[i, j] - swarm["shap"].to_numpy()).max() < 1e-9
    numeric = [f for f in swarm["feature"].unique() if not isinstance(X[f].dtype, pd.CategoricalDtype)]
    kept = swarm["feature"].isin(numeric).to_numpy()
    values = X.to_numpy(dtype=object)[i[kept], j[kept]].astype(float)
    assert np.allclose(values, swarm["value"].to_numpy()[kept], equal_nan=True)


def test_the_stored_dependence_holds_every_feature_as_pred_contrib(world):
    """model_dependence (what the read API serves) has every feature of the version, each for the
    same sampled test customers, its SHAP values LightGBM's pred_contrib and its secondary the most
    important other feature."""
    config, _ = world
    spec = config.model("purchase_30d")
    booster, meta = store.load(config.warehouse_path.parent / "models", spec.name, LAST)
    with connect(config.warehouse_path, read_only=True) as con:
        dep = con.execute(
            "SELECT customer_id, feature, shap, secondary_feature FROM model_dependence "
            "WHERE model = $m AND version = $v",
            {"m": spec.name, "v": LAST},
        ).df()
        top = con.execute(
            "SELECT feature FROM model_feature_impact WHERE model = $m AND version = $v "
            "ORDER BY rank LIMIT 2",
            {"m": spec.name, "v": LAST},
        ).fetchall()
        prepared = training.prepare(con, config, spec, LAST)
    assert set(dep["feature"]) == set(meta["features"])
    per_feature = dep.groupby("feature")["customer_id"].agg(["size", "nunique"])
    assert (per_feature["size"] == per_feature["nunique"]).all() and per_feature["size"].nunique() == 1
    assert 100 < per_feature["size"].iloc[0] <= 1000
    secondary = dep.groupby("feature")["secondary_feature"].first()
    assert secondary[top[0][0]] == top[1][0] and (secondary.drop(top[0][0]) == top[0][0]).all()
    X = prepared.X.loc[dep["customer_id"].unique()]
    contrib = booster.predict(
        model_input(X, booster), pred_contrib=True, num_iteration=meta["best_iteration"] or None
    )
    i = dep["customer_id"].map({c: k for k, c in enumerate(X.index)}).to_numpy()
    j = dep["feature"].map({f: k for k, f in enumerate(meta["features"])}).to_numpy()
    assert np.abs(contrib[i, j] - dep["shap"].to_numpy()).max() < 1e-9


def test_the_dependence_of_any_feature_is_its_pred_contrib_and_explain_prints_it(world, tmp_path, capsys):
    config, _ = world
    spec = config.model("purchase_30d")
    models = config.warehouse_path.parent / "models"
    booster, meta = store.load(models, spec.name, LAST)
    with connect(config.warehouse_path, read_only=True) as con:
        d = feature_dependence(con, config, spec, models, "num_age", "count_web_sessions_30d", rows=500)
        X = align(customer_features(con, spec, LAST + dt.timedelta(days=1), scoring=True), meta["features"])
        with pytest.raises(LookupError, match="'price' is not a feature of the model"):
            feature_dependence(con, config, spec, models, "price")
    assert d.version == LAST and d.as_of == LAST and len(d.table) == 500
    X = X.loc[d.table["customer_id"]]
    contrib = booster.predict(
        model_input(X, booster), pred_contrib=True, num_iteration=meta["best_iteration"] or None
    )
    j = meta["features"].index("num_age")
    assert np.abs(contrib[:, j] - d.table["shap"].to_numpy()).max() < 1e-9
    assert np.allclose(X["num_age"].to_numpy(dtype=float), d.table["value"], equal_nan=True)
    assert np.allclose(X["count_web_sessions_30d"].to_numpy(dtype=float), d.table["secondary_value"])
    summary = d.summary()
    assert summary["customers"].sum() == 500 and len(summary) <= 11
    plot = tmp_path / "age.png"
    args = ["explain", "--model", "purchase_30d", "--config", str(config.base_dir / "nightjar.yaml")]
    assert (
        main([*args, "--dependence", "num_age", "--secondary", "count_web_sessions_30d", "--plot", str(plot)])
        == 0
    )
    out = capsys.readouterr().out
    assert (
        "SHAP of num_age over 1000 customers" in out and "rank correlation of count_web_sessions_30d" in out
    )
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main([*args, "--dependence", "price"]) == 1
    assert "'price' is not a feature" in capsys.readouterr().err
    assert main(args) == 1
    assert "give --customer" in capsys.readouterr().err
