"""A stored version scores as it was trained: a config edited since (feature windows, history, exclusions,
a clv model's time unit) changes the next training, not the scores, explanations or drift of a version
trained before it."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pandas as pd
import yaml

from pipeline.config import parse_config
from pipeline.core.warehouse import connect
from pipeline.models import champion, store, training
from pipeline.models import metrics as m
from pipeline.models.dependence import feature_dependence
from pipeline.models.features import customer_features
from pipeline.models.predict import align, predict
from pipeline.models.scoring import explain, night_drift, score
from tests.assets.models.conftest import LAST

EDITS = {  # the config edits made after the versions were trained
    "purchase_30d": {"windows": [7, 30], "history_days": 100, "exclude": ["days_since_last_event"]},
    "churn_60d": {"windows": [14], "exclude": ["num_age"]},
    "product_recommender": {"history_days": 20, "windows": [7, 14]},
    "ltv": {"time_unit": "days"},
}


def _edited(config):
    data = yaml.safe_load((config.base_dir / "nightjar.yaml").read_text())
    edited = copy.deepcopy(data)
    for model in edited["models"]:
        model.update(EDITS.get(model["name"], {}))
    return parse_config(edited, config.base_dir / "nightjar.yaml", config.base_dir)


def _night(config, store_dir):
    out = {}
    with connect(config.warehouse_path, read_only=True) as con:
        for spec in config.models:
            version, frame = score(con, config, spec, LAST, store_dir, {})
            frame = frame.set_index("customer_id").sort_index()
            drift = night_drift(con, spec, LAST, version, frame.reset_index(), store_dir, {})
            out[spec.name] = (version, frame, drift)
    return out


def test_a_version_scores_explains_and_measures_drift_as_trained_after_a_config_edit(world):
    config, _ = world
    store_dir = config.warehouse_path.parent / "models"
    edited = _edited(config)
    before, after = _night(config, store_dir), _night(edited, store_dir)
    for name, (version, frame, drift) in before.items():
        assert after[name][0] == version == LAST
        columns = [c for c in frame.columns if c != "items"]
        pd.testing.assert_frame_equal(after[name][1][columns], frame[columns], check_exact=True, obj=name)
        assert after[name][1]["items"].astype(str).equals(frame["items"].astype(str)), name
        if drift is not None:
            pd.testing.assert_frame_equal(after[name][2], drift, check_exact=True, obj=name)
    customer = before["purchase_30d"][1].index[0]
    with connect(config.warehouse_path, read_only=True) as con:
        for name in ("purchase_30d", "churn_60d"):
            was = explain(con, config, config.model(name), customer, store_dir, LAST)
            now = explain(con, edited, edited.model(name), customer, store_dir, LAST)
            assert now.raw_score == was.raw_score and now.score == was.score
            pd.testing.assert_frame_equal(now.contributions, was.contributions, check_exact=True)
            assert np.isclose(now.score, before[name][1].loc[customer, "score"], rtol=0, atol=1e-12)
        feature = EDITS["purchase_30d"]["exclude"][0]
        was = feature_dependence(con, config, config.model("purchase_30d"), store_dir, feature, None, LAST)
        now = feature_dependence(con, edited, edited.model("purchase_30d"), store_dir, feature, None, LAST)
        pd.testing.assert_frame_equal(now.table, was.table, check_exact=True)


def test_the_champion_is_measured_on_its_own_features_when_the_config_changed_them(world, tmp_path):
    """A challenger trained after a config edit is compared with the champion scored as the champion was
    trained (its windows, history and exclusions), on the challenger's test customers."""
    config, _ = world
    store_dir = config.warehouse_path.parent / "models"
    edited = _edited(config)
    spec, day = edited.model("purchase_30d"), LAST + dt.timedelta(days=1)
    with connect(config.warehouse_path, read_only=True) as con:
        prepared = training.prepare(con, edited, spec, day)
        trained = training.train(prepared, spec, draw=False)
        champion.challenge(con, spec, prepared, trained, store_dir)
        cutoff = trained.window.cutoff
        own = customer_features(con, config.model("purchase_30d"), cutoff, scoring=True)
    assert trained.features != store.load(store_dir, "purchase_30d", LAST)[1]["features"]
    booster, meta = store.load(store_dir, "purchase_30d", LAST)
    test = trained.test
    p = predict(booster, align(own.reindex(prepared.ids[test]), meta["features"]), meta)
    assert trained.metrics["champion_auc_same_customers"] == m.auc(prepared.y[test], p)
