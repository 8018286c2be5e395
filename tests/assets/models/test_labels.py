"""Labels and populations on the demo world: a goal of the customer data as the label, and a training
population restricted by rules over the customer data (a segment)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import yaml

from pipeline.config import parse_config
from pipeline.core.warehouse import connect
from pipeline.models import training
from pipeline.models.features import customer_features, first_event_day, training_window
from pipeline.models.scoring import night_drift, score
from tests.assets.models.conftest import LAST, copy_world


def with_model(config, model: dict):
    data = yaml.safe_load((config.base_dir / "nightjar.yaml").read_text())
    data["models"] = [model]
    data["experiments"] = [
        {k: v for k, v in e.items() if k not in ("model", "policy")} for e in data["experiments"]
    ]
    return parse_config(data, config.base_dir / "nightjar.yaml", config.base_dir)


def test_a_goal_of_the_customer_data_is_the_label(world, tmp_path):
    """The demo's newsletter goal is reached before the world starts or on the sign-up day (never by a
    known customer in a label window), so a copy plants it: every seventh customer not yet subscribed
    subscribes three days into the label window."""
    config, _ = world
    data = copy_world(config, tmp_path)
    data["models"] = [
        {"name": "newsletter", "type": "response", "label": {"goal": "goal_newsletter", "horizon_days": 30}}
    ]
    goal = parse_config(data, config.base_dir / "nightjar.yaml", config.base_dir)
    spec = goal.model("newsletter")
    with connect(goal.warehouse_path) as con:
        window = training_window(spec, LAST, first_event_day(con))
        con.execute(
            "UPDATE customers SET goal_newsletter = TRUE, goal_newsletter_timestamp = $t "
            "WHERE NOT coalesce(goal_newsletter, FALSE) AND hash(customuid) % 7 = 0",
            {"t": dt.datetime.combine(window.label_start, dt.time()) + dt.timedelta(days=3)},
        )
        prepared = training.prepare(con, goal, spec, LAST)
        customers = con.execute(
            "SELECT customuid, goal_newsletter, goal_newsletter_timestamp, _first_seen_at FROM customers"
        ).df()
    assert "goal_newsletter" not in prepared.X.columns  # the label is not a feature
    customers = customers.set_index("customuid")
    stamp = customers["goal_newsletter_timestamp"]
    reached = customers["goal_newsletter"].fillna(False).astype(bool)
    start, end = pd.Timestamp(window.label_start), pd.Timestamp(window.label_end)
    known = customers["_first_seen_at"] < start
    before = reached & (stamp.isna() | (stamp < start))  # converted already: left out
    want = (reached & (stamp >= start) & (stamp < end)).astype(np.int32)[known & ~before]
    got = pd.Series(prepared.y, index=prepared.X.index)
    assert set(got.index) <= set(want.index) and len(got) > 0.95 * len(want)
    assert got.equals(want.reindex(got.index))
    assert 0.1 < got.mean() < 0.2  # a seventh of the not yet subscribed
    trained = training.train(prepared, spec, draw=False)
    assert "baseline_rfm_auc" in trained.metrics  # a response model like any other (baselines, ...)


def test_a_population_rule_restricts_the_training_not_the_scoring(world, tmp_path):
    """Customers of 40 and over: the training frame holds them only, scoring every customer, and the
    night's drift of the version is measured on the segment (num_age stays put) rather than on everyone
    (where the younger customers are a shift)."""
    config, _ = world
    data = copy_world(config, tmp_path)
    data["models"] = [
        {
            "name": "older",
            "type": "response",
            "label": {"rules": [{"transaction": "completedOrder"}], "horizon_days": 30},
            "population": [{"transaction": "customers", "field": "num_age", "formula": {"gte": 40}}],
        }
    ]
    segment = parse_config(data, config.base_dir / "nightjar.yaml", config.base_dir)
    spec = segment.model("older")
    models = tmp_path / "models"
    with connect(segment.warehouse_path) as con:
        prepared = training.prepare(con, segment, spec, LAST)
        everyone = customer_features(con, spec, prepared.window.cutoff)
        scored = customer_features(con, spec, prepared.window.cutoff, scoring=True)
        trained = training.train(prepared, spec, draw=False)
        training.mark(con, spec, LAST, training.RUNNING)
        training.record(con, spec, trained, models)
        version, frame = score(con, segment, spec, LAST, models)
        on_segment = night_drift(con, spec, LAST, version, frame, models)
        on_everyone = night_drift(
            con, spec.model_copy(update={"population": []}), LAST, version, frame, models
        )
    assert (prepared.X["num_age"] >= 40).all()
    assert list(prepared.X.index) == list(everyone.index[everyone["num_age"] >= 40])
    assert len(prepared.X) < 0.9 * len(scored) and (scored["num_age"] < 40).any()
    assert len(frame) == len(scored.index.union(frame["customer_id"]))  # every active customer scored
    assert on_segment is not None and on_everyone is not None
    if "num_age" in set(on_segment["column"]):
        age = dict(on_segment.values.tolist())["num_age"]
        assert age < 0.1 < dict(on_everyone.values.tolist())["num_age"]
    assert on_segment["psi"].max() < on_everyone["psi"].max()


def test_a_recommenders_responses_are_weighted_by_the_rule_they_match(world):
    """Store purchases of over 50 weigh 3 in the recommender's training, the others 1."""
    config, _ = world
    weighted = with_model(
        config,
        {
            "name": "weighted",
            "type": "recommender",
            "label": {
                "rules": [
                    {"transaction": "pos"},
                    {"transaction": "pos", "field": "amount", "formula": {"gt": 50}, "weight": 3},
                ],
                "horizon_days": 7,
            },
            "item_field": "product",
        },
    )
    spec = weighted.model("weighted")
    with connect(config.warehouse_path, read_only=True) as con:
        prepared = training.prepare(con, weighted, spec, LAST)
        w = prepared.window
        big = con.execute(
            "SELECT DISTINCT customer_id, json_extract_string(properties, 'product') AS item FROM events "
            "WHERE source = 'pos' AND value > 50 AND occurred_at >= $s AND occurred_at < $e",
            {"s": w.label_start, "e": w.label_end},
        ).df()
    assert prepared.weight is not None and prepared.candidates is not None
    cands = prepared.candidates[["customer_id", "item"]].assign(y=prepared.y, weight=prepared.weight)
    heavy = cands.merge(big, on=["customer_id", "item"], how="left", indicator=True)["_merge"] == "both"
    assert (cands.loc[heavy.to_numpy(), "weight"] == 3).all() and heavy.sum() > 10
    assert (cands.loc[~heavy.to_numpy(), "weight"] == 1).all()
    assert (cands.loc[heavy.to_numpy(), "y"] == 1).all()
    trained = training.train(prepared, spec, draw=False)
    assert trained.metrics["hit_rate"] > trained.metrics["baseline_hit_rate"]
