"""Pure model helpers on hand-computed cases: metrics, top-k, splits, training windows, label rules."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.core.rules import Params, RuleError
from pipeline.models import metrics as m
from pipeline.models.config import ModelSpec
from pipeline.models.features import NotEnoughData, TrainingError, TrainingWindow, labels, training_window
from pipeline.models.labels import LabelRule, compile_rules, compile_weight
from pipeline.models.recommend import popularity_top_k, top_k
from pipeline.models.training import reference_scores
from tests.conftest import make_config


def test_auc_logloss_and_top_decile_by_hand():
    y = np.array([0, 0, 1, 1])
    assert m.auc(y, np.array([0.1, 0.4, 0.35, 0.8])) == 0.75  # 3 of 4 positive-negative pairs ordered
    assert m.auc(y, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5  # ties count one half
    assert np.isnan(m.auc(np.array([1, 1]), np.array([0.2, 0.3])))
    assert m.logloss(np.array([1, 0]), np.array([0.8, 0.4])) == pytest.approx(
        -(np.log(0.8) + np.log(0.6)) / 2
    )
    y20 = np.zeros(20, dtype=int)
    y20[[0, 5, 7]] = 1
    score = np.arange(20)[::-1] / 20  # customer 0 first, 1 second: the top decile is customers 0 and 1
    assert m.top_decile(y20, score) == (0.5, 1 / 3)
    cal = m.calibration(np.array([0, 1, 1, 0]), np.array([0.05, 0.15, 0.95, 0.91]))
    assert cal.loc["0.9-1.0"].tolist() == pytest.approx([2, 0.93, 0.5]) and cal["customers"].sum() == 4


def test_precision_recall_at_k_and_hit_rate_by_hand():
    recommended = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "b"],
            "item": ["x", "y", "z", "x", "y", "z"],
            "rank": [1, 2, 3, 1, 2, 3],
        }
    )
    taken = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "item": ["y", "q", "z", "x"]})
    got = m.at_k(recommended, taken, 2)
    # a: top-2 {x, y} holds y (1 of 2 taken); b: {x, y} misses z; c: nothing recommended
    assert got == {
        "precision_at_k": pytest.approx((1 / 2) / 3),
        "recall_at_k": pytest.approx((1 / 2) / 3),
        "hit_rate": pytest.approx(1 / 3),
        "customers": 3.0,
    }


def test_top_k_ranks_by_score_then_item_and_popularity_is_the_same_for_everyone():
    cands = pd.DataFrame(
        {
            "customer_id": ["a"] * 3 + ["b"] * 3,
            "item": ["x", "y", "z"] * 2,
            "s": [0.1, 0.9, 0.9, 0.5, 0.2, 0.7],
            "popularity": [0.5, 0.3, 0.2] * 2,
        }
    )
    top = top_k(cands, "s", 2)
    assert top[["customer_id", "item", "rank"]].values.tolist() == [
        ["a", "y", 1],
        ["a", "z", 2],
        ["b", "z", 1],
        ["b", "x", 2],
    ]
    assert popularity_top_k(cands, 1)["item"].tolist() == ["x", "x"]


def spec(horizon: int, min_history: int = 7, **kw) -> ModelSpec:
    return ModelSpec(
        name="m",
        type="response",
        label={"rules": [{"transaction": "pos"}], "horizon_days": horizon},
        min_history_days=min_history,
        **kw,
    )


def test_training_windows():
    first = dt.date(2026, 1, 1)
    w = training_window(spec(30), dt.date(2026, 3, 1), first)  # enough data: the label window is complete
    assert (w.cutoff, w.label_end, w.label_days, w.truncated) == (
        dt.date(2026, 1, 31),
        dt.date(2026, 3, 2),
        30,
        False,
    )
    w = training_window(spec(60), dt.date(2026, 1, 14), first)  # young warehouse: halfway
    assert (w.cutoff, w.label_days, w.truncated) == (dt.date(2026, 1, 8), 7, True)
    w = training_window(
        spec(60, min_history=10), dt.date(2026, 1, 14), first
    )  # ... but min_history_days first
    assert w.cutoff == dt.date(2026, 1, 11)
    with pytest.raises(NotEnoughData, match="min_history_days"):
        training_window(spec(30), dt.date(2026, 1, 5), first)
    with pytest.raises(NotEnoughData, match="no events"):
        training_window(spec(30), dt.date(2026, 1, 5), None)


def test_a_customer_twice_in_the_customer_list_is_a_training_error_naming_it(tmp_path):
    """One label per customer: a list with C2 twice (here with both labels) is refused naming C2, not
    left to fail in pandas (cannot reindex on an axis with duplicate labels)."""
    config = make_config(tmp_path)
    (tmp_path / "list.csv").write_text("customer_id,label\nC1,1\nC2,0\nC2,1\nC3,0\n")
    spec = ModelSpec(name="m", type="response", label={"customer_list": "list.csv"})
    day = dt.date(2026, 3, 1)
    window = TrainingWindow(day, day, day, day + dt.timedelta(days=1), False)
    con = duckdb.connect()
    con.execute(
        "CREATE TEMP TABLE _population AS SELECT * FROM (VALUES ('C1'), ('C2'), ('C3')) t(customer_id)"
    )
    with pytest.raises(TrainingError, match=r"list\.csv has 1 customer\(s\) more than once, e\.g\. \['C2'\]"):
        labels(con, config, spec, window)
    (tmp_path / "list.csv").write_text("customer_id,label\nC1,1\nC2,0\nC3,0\n")
    assert labels(con, config, spec, window).to_dict() == {"C1": 1, "C2": 0, "C3": 0}


def test_reference_scores_with_a_customer_twice_give_no_reference_auc_and_say_why(tmp_path):
    """Like a missing file: no reference AUC, and a note naming the repeated customer (the training goes
    on), not a pandas error when the test customers are looked up."""
    config = make_config(tmp_path)
    (tmp_path / "ref.csv").write_text("customuid,propensity\nC1,0.2\nC1,0.3\nC2,0.5\n")
    spec = ModelSpec(
        name="m",
        type="response",
        label={"rules": [{"transaction": "pos"}]},
        reference_scores={"file": "ref.csv", "column": "propensity"},
    )
    ref, note = reference_scores(config, spec)
    assert ref is None
    twice = "have 1 customer(s) more than once, e.g. ['C1']: no reference AUC"
    assert note == f"reference scores {tmp_path / 'ref.csv'} {twice}"
    (tmp_path / "ref.csv").write_text("customuid,propensity\nC1,0.2\nC2,0.5\n")
    ref, note = reference_scores(config, spec)
    assert note is None and ref is not None and ref.to_dict() == {"C1": 0.2, "C2": 0.5}


def test_label_rules_are_the_rule_language_compiled_to_bound_parameters(tmp_path):
    config = make_config(tmp_path)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE events (source VARCHAR, type VARCHAR, occurred_at TIMESTAMP, customer_key VARCHAR, "
        "properties JSON)"
    )
    # properties as pipeline/events.py writes them: to_json of the typed row (amount a DECIMAL(18,4))
    con.execute("""INSERT INTO events VALUES
        ('pos', 'completedOrder', '2026-01-01', 'C1', to_json({amount: 150.5::DECIMAL(18,4), store: 'ST01'})),
        ('pos', 'completedOrder', '2026-01-02', 'C2', to_json({amount: 20::DECIMAL(18,4), store: 'ST02'})),
        ('web_sessions', 'web_sessions', '2026-01-02 10:00', 'C1', to_json({revenue: 500::DECIMAL(18,4)})),
        ('campaign_events', 'campaignOpened', '2026-01-03 08:00', 'C2', to_json({campaign: 'SPRING'})),
        ('campaign_events', 'campaignSent', '2026-01-03 07:00', 'C2', to_json({campaign: 'SPRING'}))""")

    def matching(*rules: dict) -> list[int]:
        params = Params("rule")
        cond = compile_rules(config.transactions, [LabelRule(**r) for r in rules], params)
        assert (
            "150" not in cond and "ST0" not in cond and "C2" not in cond
        )  # values are parameters, never SQL text
        return [
            r[0]
            for r in con.execute(
                f"SELECT rowid FROM events e WHERE {cond} ORDER BY 1", params.values
            ).fetchall()
        ]

    assert matching({"transaction": "pos", "field": "amount", "formula": {"gt": 100}}) == [0]
    # typed by the field's declared type (Decimal): "100" is the number 100, so 20 is not above it
    assert matching({"transaction": "pos", "field": "amount", "formula": {"gt": "100"}}) == [0]
    assert matching({"transaction": "completedOrder", "field": "amount", "formula": {"lte": 20}}) == [1]
    assert matching({"transaction": "pos", "field": "store", "formula": {"in": ["ST02", "ST09"]}}) == [1]
    assert matching({"transaction": "pos", "field": "store", "formula": {"contains": "1"}}) == [0]
    assert matching({"transaction": "pos", "field": "store", "formula": {"eqi": "st01"}}) == [0]
    assert matching({"transaction": "pos", "field": "store", "formula": {"eq": "x' OR 1=1 --"}}) == []
    # the transaction's time and customer fields are the event's occurred_at and customer_key
    assert matching({"transaction": "pos", "field": "purchased_at", "formula": {"gte": "2026-01-02"}}) == [1]
    assert matching({"transaction": "pos", "field": "customer_id", "formula": {"eq": "C2"}}) == [1]
    # no field: any event of the transaction, or of the event type (from a type_map); rules are OR-ed
    assert matching(
        {"transaction": "web_sessions"}, {"transaction": "pos", "field": "amount", "formula": {"neq": 20}}
    ) == [0, 2]
    assert matching({"transaction": "campaignOpened"}) == [3]
    assert matching({"transaction": "campaign_events"}) == [3, 4]
    assert matching() == []
    with pytest.raises(RuleError, match="'lots' is not a Decimal value") as e:
        compile_rules(
            config.transactions,
            [LabelRule(transaction="pos", field="amount", formula={"gt": "lots"})],
            Params(),
        )
    assert e.value.key == "formula"


def test_a_qualifying_event_weighs_the_largest_weight_of_the_rules_it_matches(tmp_path):
    config = make_config(tmp_path)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE events (source VARCHAR, type VARCHAR, occurred_at TIMESTAMP, customer_key VARCHAR, "
        "properties JSON)"
    )
    con.execute("""INSERT INTO events VALUES
        ('pos', 'completedOrder', '2026-01-01', 'C1', to_json({amount: 150.5::DECIMAL(18,4)})),
        ('pos', 'completedOrder', '2026-01-02', 'C2', to_json({amount: 20::DECIMAL(18,4)})),
        ('web_sessions', 'web_sessions', '2026-01-02 10:00', 'C1', to_json({revenue: 500::DECIMAL(18,4)}))""")

    def weights(*rules: dict) -> list[float]:
        params = Params("rule")
        label = [LabelRule(**r) for r in rules]
        weight = compile_weight(config.transactions, label, params)
        cond = compile_rules(config.transactions, label, params)
        assert "2.5" not in weight  # weights are parameters too
        return [
            r[0]
            for r in con.execute(
                f"SELECT {weight} FROM events e WHERE {cond} ORDER BY rowid", params.values
            ).fetchall()
        ]

    assert weights({"transaction": "pos"}, {"transaction": "web_sessions"}) == [1.0, 1.0, 1.0]
    assert weights(
        {"transaction": "pos", "weight": 1},
        {"transaction": "pos", "field": "amount", "formula": {"gt": 100}, "weight": 2.5},
        {"transaction": "web_sessions", "weight": 0.2},
    ) == [2.5, 1.0, 0.2]


@pytest.mark.parametrize(
    "model, key, message",
    [
        (
            {"type": "recommender", "label": {"rules": [{"transaction": "pos"}]}},
            "models[0].item_field",
            "needs item_field",
        ),
        (
            {
                "type": "recommender",
                "label": {"rules": [{"transaction": "web_sessions"}]},
                "item_field": "product",
            },
            "models[0].item_field",
            "'product' is not a field of 'web_sessions'",
        ),
        (
            {"type": "response", "label": {"rules": [{"transaction": "pos"}], "customer_list": "l.csv"}},
            "models[0].label.rules",
            "give one of rules",
        ),
        (
            {"type": "churn", "label": {"rules": [{"transaction": "pos", "weight": 2}]}},
            "models[0].label.rules",
            "weight is for recommenders",
        ),
        (
            {"type": "response", "label": {"goal": "goal_newsletter", "customer_list": "l.csv"}},
            "models[0].label.rules",
            "give one of rules",
        ),
        (
            {"type": "response", "label": {"goal": "num_age"}},
            "models[0].label.goal",
            "a goal is a goal_\\* column",
        ),
        (
            {"type": "churn", "label": {"goal": "goal_newsletter"}},
            "models[0].label.goal",
            "a goal labels a response model",
        ),
        (
            {"type": "clv", "label": {"goal": "goal_newsletter"}},
            "models[0].label.rules",
            "a clv model counts purchases",
        ),
        (
            {
                "type": "response",
                "label": {"rules": [{"transaction": "pos"}]},
                "population": [
                    {"transaction": "customers", "field": "attr_interests", "formula": {"eq": "x"}}
                ],
            },
            "models[0].population[0].field",
            "multi-value attr_\\* column",
        ),
        (
            {
                "type": "response",
                "label": {"rules": [{"transaction": "pos"}]},
                "population": [{"transaction": "pos", "field": "amount", "formula": {"gt": 1}}],
            },
            "models[0].population[0].transaction",
            "unknown transaction 'pos'",
        ),
        (
            {
                "type": "clv",
                "label": {"rules": [{"transaction": "pos"}]},
                "population": [{"transaction": "customers", "field": "num_age", "formula": {"gte": 40}}],
            },
            "models[0].population",
            r"population \(a training segment\) is for response and churn models: a clv model",
        ),
        (
            {
                "type": "recommender",
                "label": {"rules": [{"transaction": "pos"}]},
                "item_field": "store",
                "population": [{"transaction": "customers", "field": "num_age", "formula": {"gte": 40}}],
            },
            "models[0].population",
            r"population \(a training segment\) is for response and churn models: a recommender",
        ),
        (
            {"type": "response", "label": {"rules": [{"transaction": "pos"}]}, "drift": {"warn": 0.3}},
            "models[0].drift.fail",
            "must be at least warn",
        ),
        (
            {"type": "response", "label": {"rules": [{"transaction": "pos", "field": "amount"}]}},
            "models[0].label.rules[0].formula",
            "field and formula together",
        ),
        (
            {
                "type": "response",
                "label": {
                    "rules": [
                        {"transaction": "pos"},
                        {"transaction": "pos", "field": "price", "formula": {"gt": 1}},
                    ]
                },
            },
            "models[0].label.rules[1].field",
            "unknown field 'price'; declared fields: amount, customer_id",
        ),
        (
            {
                "type": "response",
                "label": {"rules": [{"transaction": "pos", "field": "amount", "formula": {"about": 3}}]},
            },
            "models[0].label.rules[0].formula",
            "unknown operator 'about'",
        ),
        (
            {
                "type": "response",
                "label": {"rules": [{"transaction": "pos", "field": "amount", "formula": {"gt": "lots"}}]},
            },
            "models[0].label.rules[0].formula",
            "'lots' is not a Decimal value",
        ),
        (
            {
                "type": "response",
                "label": {"rules": [{"transaction": "pos", "field": "store", "formula": {"gt": [1, 2]}}]},
            },
            "models[0].label.rules[0].formula",
            "'gt' needs one String value",
        ),
        (
            {
                "type": "response",
                "label": {"rules": [{"transaction": "pos", "field": "amount", "formula": "gt 100"}]},
            },
            "models[0].label.rules[0].formula",
            r"a mapping \{op: value\} as in every rule, e.g. \{gt: 100\}",
        ),
        (
            {"type": "response", "label": {"rules": [{"transaction": "refunds"}]}},
            "models[0].label.rules[0].transaction",
            "neither a transaction",
        ),
        (
            {
                "type": "response",
                "label": {"rules": [{"transaction": "pos"}]},
                "split": {"train": 0.5, "evaluation": 0.2, "test": 0.2},
            },
            "models[0].split.test",
            "must be 1",
        ),
        (
            {"type": "response", "label": {"rules": [{"transaction": "pos"}]}, "windows": [7, 400]},
            "models[0].windows",
            "history_days",
        ),
    ],
)
def test_model_config_errors_name_the_key(tmp_path, model, key, message):
    from pipeline.core.settings import ConfigError

    with pytest.raises(ConfigError, match=message) as e:
        make_config(tmp_path, models=[{"name": "m", **model}])
    assert [p for p, _ in e.value.problems] == [key]
