"""Models on the demo world: training versions, the acceptance AUC against the truth, the recommender
against popularity, explanations, predictions, leakage, reproducibility and a failing label."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil

import dagster as dg
import numpy as np
import pytest
import yaml

from pipeline.cli import main
from pipeline.config import parse_config
from pipeline.core.settings import ConfigError
from pipeline.core.warehouse import connect
from pipeline.customers.forget import forget_customer
from pipeline.models import store, training
from pipeline.models.features import customer_features
from pipeline.models.labels import LabelSpec
from pipeline.models.predict import align
from pipeline.models.scoring import explain
from tests.assets.models.conftest import (
    LAST,
    MODELS,
    START,
    copy_world,
    materialization,
    q,
    trainings,
)
from tests.conftest import run_nightly


def test_each_model_trains_a_finished_version_with_float_metrics_and_plots(world):
    config, result = world
    rows = trainings(config)
    assert set(rows) == {"purchase_30d", "churn_60d", "product_recommender", "ltv"}
    assert {r["status"] for r in rows.values()} == {"FINISHED"} and {r["version"] for r in rows.values()} == {
        LAST
    }
    # the 30-day label window is complete: the cut-off is 30 days before the day after the version
    p = rows["purchase_30d"]
    assert (p["cutoff"], p["label_end"]) == (LAST + dt.timedelta(days=1 - 30), LAST + dt.timedelta(days=1))
    # 60 days do not fit in a 56-day world: the cut-off goes halfway and the label window is shorter
    c = rows["churn_60d"]
    assert c["cutoff"] == START + dt.timedelta(days=28) and c["label_end"] == LAST + dt.timedelta(days=1)
    meta = materialization(result, "model_purchase_30d")
    for key in ("auc", "logloss", "top_decile_precision", "top_decile_recall", "reference_auc"):
        assert isinstance(meta[key], dg.FloatMetadataValue), key
    for plot in ("plot_feature_impact", "plot_beeswarm", "plot_dependence", "plot_calibration_curve"):
        assert meta[plot].value.startswith("![](data:image/png;base64,"), plot
    assert "shorter than the horizon" in materialization(result, "model_churn_60d")["label_window"].value
    # LightGBM's own text format, with the feature list in the metadata file
    booster, saved = store.load(config.warehouse_path.parent / "models", "purchase_30d", LAST)
    text = (
        store.version_dir(config.warehouse_path.parent / "models", "purchase_30d", LAST) / "model.txt"
    ).read_text()
    assert text.startswith("tree\n") and saved["features"] == booster.feature_name() == p["features"]
    assert "txt_segment" in p["features"] and "attr_interests__fashion" in p["features"]
    # no customer text in the model files (LightGBM would write every txt_* category there): forget
    # could not reach it; the categories are hashes of the texts
    segments = {v for (v,) in q(config, "SELECT DISTINCT txt_segment FROM customers WHERE txt_segment <> ''")}
    assert len(segments) > 1
    for name in ("purchase_30d", "churn_60d"):
        folder = store.version_dir(config.warehouse_path.parent / "models", name, LAST)
        stored = b"".join(f.read_bytes() for f in folder.iterdir() if f.is_file())  # compiled trees too
        assert any(f.name.startswith("forest-") for f in folder.iterdir()), name
        assert not [s for s in segments if s.encode() in stored], name
    assert q(
        config, "SELECT count(*) > 0 FROM model_feature_impact WHERE model = 'purchase_30d' AND rank = 1"
    ) == [(True,)]


def test_propensity_and_churn_reach_95_percent_of_the_true_auc(world):
    config, _ = world
    rows = trainings(config)
    for model, truth in (("purchase_30d", "propensity"), ("churn_60d", "churn_risk")):
        m = rows[model]["metrics"]
        print(
            f"\n{model}: model AUC {m['model_auc_same_customers']:.4f}, "
            f"truth ({truth}) AUC {m['reference_auc']:.4f}, "
            f"ratio {m['auc_ratio_to_reference']:.4f} on {m['test_customers']:.0f} test customers"
        )
        assert m["model_auc_same_customers"] >= 0.95 * m["reference_auc"], model
        assert m["model_auc_same_customers"] == m["auc"]  # every test customer is in the truth file
        assert 0.6 < m["reference_auc"] < 0.95


def test_the_recommender_beats_the_popularity_baseline(world):
    config, result = world
    m = trainings(config)["product_recommender"]["metrics"]
    print(
        f"\nrecommender@{m['k']:.0f}: "
        f"precision {m['precision_at_k']:.4f} vs {m['baseline_precision_at_k']:.4f}, "
        f"recall {m['recall_at_k']:.4f} vs {m['baseline_recall_at_k']:.4f}, hit rate {m['hit_rate']:.4f} vs "
        f"{m['baseline_hit_rate']:.4f} ({m['held_out_customers']:.0f} held-out customers)"
    )
    assert m["held_out_customers"] >= 50
    assert m["precision_at_k"] > m["baseline_precision_at_k"] and m["hit_rate"] > m["baseline_hit_rate"]
    assert m["recall_at_k"] > m["baseline_recall_at_k"]
    assert isinstance(
        materialization(result, "model_product_recommender")["baseline_hit_rate"], dg.FloatMetadataValue
    )


def test_predictions_score_every_active_customer_with_the_latest_version(world):
    config, _ = world
    active = q(
        config,
        "SELECT count(*) FROM customers c WHERE _first_seen_at <= $d AND NOT EXISTS "
        "(SELECT 1 FROM customer_identities i WHERE i.customer_id = c.customuid AND i.excluded)",
        {"d": LAST},
    )[0][0]
    rows = q(
        config,
        "SELECT model, count(*), count(DISTINCT customer_id), min(version), max(version), "
        "min(score), max(score), "
        "min(len(items)), max(len(items)), bool_and(len(list_distinct(items)) = len(items)) "
        "FROM predictions WHERE date = $d GROUP BY model ORDER BY model",
        {"d": LAST},
    )
    assert [r[0] for r in rows] == ["churn_60d", "ltv", "product_recommender", "purchase_30d"]
    for model, n, distinct, v1, v2, lo, hi, k1, k2, unique in rows:
        if model == "ltv":  # the customers with a purchase (tests/assets/models/test_clv.py)
            continue
        assert n == distinct == active and v1 == v2 == LAST and 0 <= lo <= hi <= 1, model
        if model == "product_recommender":
            assert k1 == k2 == 5 and unique
        else:
            assert k1 is None
    # the truth's best buyers get higher purchase scores
    truth = {
        r["customuid"]: float(r["propensity"])
        for r in csv.DictReader((config.base_dir / "truth" / "customers.csv").open())
    }
    scores = dict(
        q(
            config,
            "SELECT customer_id, score FROM predictions WHERE date = $d AND model = 'purchase_30d'",
            {"d": LAST},
        )
    )
    ids = sorted(scores)
    assert np.corrcoef([truth[i] for i in ids], [scores[i] for i in ids])[0, 1] > 0.4


def test_shap_values_sum_to_the_raw_score_and_explain_prints_the_waterfall(world, capsys):
    config, _ = world
    models = config.warehouse_path.parent / "models"
    spec = config.model("purchase_30d")
    booster, meta = store.load(models, spec.name, LAST)
    with connect(config.warehouse_path, read_only=True) as con:
        X = align(customer_features(con, spec, LAST + dt.timedelta(days=1), scoring=True), meta["features"])
        contrib = booster.predict(X, pred_contrib=True)
        raw = booster.predict(X, raw_score=True)
        assert contrib.shape == (len(X), len(meta["features"]) + 1)
        assert np.max(np.abs(contrib.sum(axis=1) - raw)) < 1e-6
        customer = X.index[7]
        e = explain(con, config, spec, customer, models)
    assert e.version == LAST and e.as_of == LAST
    assert abs(e.base_value + e.contributions["shap"].sum() - e.raw_score) < 1e-6
    score = q(
        config,
        "SELECT score FROM predictions WHERE date = $d AND model = $m AND customer_id = $c",
        {"d": LAST, "m": spec.name, "c": customer},
    )[0][0]
    assert e.score == pytest.approx(score, abs=1e-9)
    assert (
        main(
            [
                "explain",
                "--model",
                "purchase_30d",
                "--customer",
                customer,
                "--config",
                str(config.base_dir / "nightjar.yaml"),
                "--top",
                "5",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert (
        f"version {LAST}, customer {customer}" in out
        and "base value" in out
        and f"score {e.score:.6f}" in out
    )
    assert (
        main(
            [
                "explain",
                "--model",
                "nope",
                "--customer",
                customer,
                "--config",
                str(config.base_dir / "nightjar.yaml"),
            ]
        )
        == 1
    )
    assert (
        main(
            [
                "explain",
                "--model",
                "purchase_30d",
                "--customer",
                "NOBODY",
                "--config",
                str(config.base_dir / "nightjar.yaml"),
            ]
        )
        == 1
    )
    assert "not an active customer" in capsys.readouterr().err


def test_training_twice_with_the_same_seed_gives_the_same_model_and_metrics(world):
    config, _ = world
    spec = config.model("churn_60d")
    with connect(config.warehouse_path, read_only=True) as con:
        prepared = training.prepare(con, config, spec, LAST)
    reference, _ = training.reference_scores(config, spec)
    first, second = (training.train(prepared, spec, reference, draw=False) for _ in range(2))
    assert first.booster.model_to_string() == second.booster.model_to_string()
    assert first.metrics == second.metrics
    # ... and the same as the asset's run, stored in the model store and model_trainings
    stored, _ = store.load(config.warehouse_path.parent / "models", spec.name, LAST)
    assert np.array_equal(stored.predict(prepared.X), first.booster.predict(prepared.X))
    assert trainings(config)["churn_60d"]["metrics"] == pytest.approx(first.metrics)
    other = training.train(prepared, spec.model_copy(update={"seed": 8}), reference, draw=False)
    assert other.booster.model_to_string() != first.booster.model_to_string()


def test_a_planted_event_after_the_cut_off_does_not_change_the_features(world):
    config, _ = world
    spec = config.model("purchase_30d")
    cutoff = LAST - dt.timedelta(days=20)
    planted = """INSERT INTO events (event_id, customer_id, customer_key, customer_key_kind, type, context,
                     occurred_at, value, channel, source, load_id, _partition_date)
                 SELECT 'planted:' || $t, 'C000001', 'C000001', 'customuid', 'completedOrder', 'RETAIL',
                        $t, 999, 'Email', 'pos', -1, $t::DATE"""
    with connect(config.warehouse_path, read_only=True) as con:
        before = customer_features(con, spec, cutoff)
    after_cutoff, before_cutoff = (
        config.warehouse_path.parent / "after.duckdb",
        config.warehouse_path.parent / "before.duckdb",
    )
    for path, at in (
        (after_cutoff, [dt.datetime.combine(cutoff, dt.time()), dt.datetime.combine(LAST, dt.time(12))]),
        (before_cutoff, [dt.datetime.combine(cutoff, dt.time()) - dt.timedelta(seconds=1)]),
    ):
        shutil.copy(config.warehouse_path, path)
        with connect(path) as con:
            for t in at:
                con.execute(planted, {"t": t})
    with connect(after_cutoff) as con:
        assert con.execute("SELECT count(*) FROM events WHERE event_id LIKE 'planted:%'").fetchall() == [(2,)]
        after = customer_features(con, spec, cutoff)
    assert after.equals(before)
    with connect(before_cutoff) as con:  # the test can fail: one second earlier, the same event counts
        changed = customer_features(con, spec, cutoff)
    assert (
        changed.loc["C000001", "count_completedOrder_7d"]
        == before.loc["C000001", "count_completedOrder_7d"] + 1
    )
    assert changed.drop(index="C000001").equals(before.drop(index="C000001"))


def test_the_config_cannot_add_a_feature_from_after_the_cut_off(world):
    config, _ = world
    data = yaml.safe_load((config.base_dir / "nightjar.yaml").read_text())
    for change, where in (
        ({"windows": [0, 7]}, "models[0].windows"),
        ({"windows": [-30]}, "models[0].windows"),
        ({"features": [{"sql": "SELECT 1"}]}, "models[0].features"),
        ({"cutoff_offset_days": 5}, "models[0].cutoff_offset_days"),
    ):
        bad = {**data, "models": [{**data["models"][0], **change}] + data["models"][1:]}
        with pytest.raises(ConfigError) as e:
            parse_config(bad, "nightjar.yaml", config.base_dir)
        assert where in str(e.value)
    unknown = {
        **data,
        "models": [
            {
                **data["models"][0],
                "label": {"rules": [{"transaction": "pos", "field": "price", "formula": {"gt": 1}}]},
            }
        ],
    }
    with pytest.raises(ConfigError, match=r"models\[0\]\.label\.rules\[0\]\.field: unknown field 'price'"):
        parse_config(unknown, "nightjar.yaml", config.base_dir)


def test_a_label_with_one_class_fails_clearly_and_the_previous_version_stays_in_use(world, tmp_path):
    config, _ = world
    data = copy_world(config, tmp_path)
    never = {"transaction": "pos", "field": "amount", "formula": {"gt": 1000000}}
    data["models"] = [
        {
            **data["models"][0],
            "label": {**data["models"][0]["label"], "rules": [never]},
            "retrain_every_days": 1,
        }
    ]  # the next night trains (whatever the grid)
    broken = parse_config(data, config.base_dir / "nightjar.yaml", config.base_dir)
    day = LAST + dt.timedelta(days=1)
    result = run_nightly(broken, day, assets=["model_purchase_30d"])
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data.error.message
    assert "the label has only one class (every customer is 0)" in failure
    rows = q(
        broken,
        "SELECT version, status, error FROM model_trainings WHERE model = 'purchase_30d' ORDER BY version",
    )
    assert [r[:2] for r in rows] == [(LAST, "FINISHED"), (day, "FAILED")] and "only one class" in rows[1][2]
    assert run_nightly(broken, day, assets=["predictions"]).success
    assert q(
        broken,
        "SELECT DISTINCT version FROM predictions WHERE model = 'purchase_30d' AND date = $d",
        {"d": day},
    ) == [(LAST,)]


def test_forget_reaches_the_model_outputs(world, tmp_path):
    config, _ = world
    data = copy_world(config, tmp_path)
    copy = parse_config(data, config.base_dir / "nightjar.yaml", config.base_dir)
    with connect(copy.warehouse_path) as con:
        who = con.execute("SELECT customer_id FROM model_beeswarm LIMIT 1").fetchall()[0][0]
        valued = con.execute("SELECT count(*) FROM clv WHERE customer_id = $c", {"c": who}).fetchall()[0][0]
        result = forget_customer(con, copy, who, "customer_id")
        # three models score every customer, the clv model those with a purchase (the clv table too)
        assert result.rows_deleted["predictions"] == 3 + valued and result.rows_deleted["model_beeswarm"] > 0
        assert result.rows_deleted.get("clv", 0) == valued
        for table in ("predictions", "model_beeswarm", "model_dependence", "clv"):
            assert con.execute(
                f"SELECT count(*) FROM {table} WHERE customer_id = $c", {"c": who}
            ).fetchall() == [(0,)]


def test_a_customer_list_label_trains_on_the_listed_customers(world, tmp_path):
    config, _ = world
    truth = list(csv.DictReader((config.base_dir / "truth" / "customers.csv").open()))
    median = float(np.median([float(r["propensity"]) for r in truth]))
    listed = truth[::2]  # every other customer, labelled by their hidden propensity
    (tmp_path / "list.csv").write_text(
        "customer_id,label\n"
        + "".join(f"{r['customuid']},{int(float(r['propensity']) > median)}\n" for r in listed)
    )
    data = yaml.safe_load((config.base_dir / "nightjar.yaml").read_text())
    data["models"] = [
        {"name": "high_value", "type": "response", "label": {"customer_list": str(tmp_path / "list.csv")}}
    ]
    data["experiments"] = [
        {k: v for k, v in e.items() if k not in ("model", "policy")} for e in data["experiments"]
    ]
    listed_config = parse_config(data, config.base_dir / "nightjar.yaml", config.base_dir)
    spec = listed_config.model("high_value")
    with connect(config.warehouse_path, read_only=True) as con:
        prepared = training.prepare(con, listed_config, spec, LAST)
    assert set(prepared.X.index) <= {r["customuid"] for r in listed} and len(prepared.X) > 0.8 * len(listed)
    assert prepared.y.sum() == sum(
        int(float(r["propensity"]) > median) for r in listed if r["customuid"] in prepared.X.index
    )
    trained = training.train(prepared, spec, draw=False)
    assert trained.metrics["auc"] > 0.7  # the attributes behind the propensity are features
    (tmp_path / "list.csv").write_text(f"customer_id,label\n{prepared.X.index[0]},2\n")
    with (
        connect(config.warehouse_path, read_only=True) as con,
        pytest.raises(training.TrainingError, match="other than 1/0"),
    ):
        training.prepare(con, listed_config, spec, LAST)


def test_a_label_rule_reads_the_typed_field_of_the_events(world):
    """A rule with a field condition, compiled by the rule language over `events`, qualifies exactly the
    customers whose typed transaction rows match (computed here on tx_pos itself)."""
    from pipeline.models.features import qualifying_events

    config, _ = world
    rule = {
        "transaction": "completedOrder",
        "field": "amount",
        "formula": {"gte": "60"},
    }  # "60": typed as Decimal
    spec = config.models[0].model_copy(update={"label": LabelSpec(rules=[rule])})
    start, end = LAST - dt.timedelta(days=13), LAST + dt.timedelta(days=1)
    with connect(config.warehouse_path, read_only=True) as con:
        qualifying_events(con, config, spec, start, end)
        got = con.execute("SELECT DISTINCT customer_id FROM _qualifying ORDER BY 1").fetchall()
        want = con.execute(
            """SELECT DISTINCT e.customer_id FROM tx_pos x
                              JOIN events e ON e.event_id = 'pos:' || x._load_id || ':' || x._row_number
                              WHERE x.amount >= 60 AND x.purchased_at >= $a AND x.purchased_at < $b
                                AND e.customer_id IS NOT NULL ORDER BY 1""",
            {"a": start, "b": end},
        ).fetchall()
        every = con.execute(
            "SELECT count(DISTINCT customer_id) FROM events WHERE source = 'pos' AND customer_id "
            "IS NOT NULL AND occurred_at >= $a AND occurred_at < $b",
            {"a": start, "b": end},
        ).fetchall()[0][0]
    assert 0 < len(got) < every and got == want  # some, not all: the condition did select


def test_results_scores_come_from_the_predictions_asset_of_the_day_before(world, tmp_path):
    """An experiment naming a model: its results' scores are the model's real predictions (of the night
    deciding, the day before the decisions) times the expected propensity (0.5 without conversions yet)."""
    config, _ = world
    data = copy_world(config, tmp_path)
    data["groups"] = []
    data["experiments"] = [
        {k: v for k, v in e.items() if k not in ("start", "end", "cadence_days")} for e in data["experiments"]
    ]
    data["experiments"][0]["model"] = "purchase_30d"
    assert data["experiments"][0]["name"] == "offer"
    scored = parse_config(data, config.base_dir / "nightjar.yaml", config.base_dir)
    day = LAST + dt.timedelta(days=1)
    # one run of the night LAST: its predictions (which results waits for and reads: they are made
    # again here, after being deleted) and the decisions presented the day after
    with connect(scored.warehouse_path) as con:
        con.execute("DELETE FROM predictions WHERE date = $d", {"d": LAST})
    assert run_nightly(scored, LAST, assets=["predictions", "results"]).success
    rows = q(
        scored,
        """SELECT r.customer_id, r.score, p.score FROM results r
                        LEFT JOIN predictions p ON p.customer_id = r.customer_id
                             AND p.model = 'purchase_30d' AND p.date = $last
                        WHERE r.date = $day AND r.experiment = 'offer'""",
        {"last": LAST, "day": day},
    )
    assert len(rows) > 100 and all(p is not None for _, _, p in rows)
    assert all(abs(s - 0.5 * p) < 1e-9 for _, s, p in rows)
    assert len({round(s, 9) for _, s, _ in rows}) > 10  # scores, not the fallback 1 x 0.5
    assert q(
        scored, "SELECT DISTINCT score FROM results WHERE date = $d AND experiment = 'channel'", {"d": day}
    ) == [(0.5,)]
    with pytest.raises(ConfigError, match=r"experiments\[0\]\.model: unknown model 'purchase_7d'"):
        parse_config(
            {
                **data,
                "experiments": [{**data["experiments"][0], "model": "purchase_7d"}] + data["experiments"][1:],
            },
            config.base_dir / "nightjar.yaml",
            config.base_dir,
        )


def test_a_night_that_is_not_due_keeps_the_current_version_and_predictions_use_it(world, tmp_path):
    """With the default weekly cadence (grid: START + 7k), LAST + 2 is not a training day and the
    versions of LAST are 2 days old: no model trains, and predictions score with the versions of LAST."""
    config, _ = world
    data = copy_world(config, tmp_path)
    copy = parse_config(data, config.base_dir / "nightjar.yaml", config.base_dir)
    assert {s.retrain_every_days for s in copy.models} == {7}
    before = q(copy, "SELECT model, version, status, finished_at FROM model_trainings ORDER BY ALL")
    day = LAST + dt.timedelta(days=2)
    result = run_nightly(copy, day, assets=MODELS + ["predictions"])
    assert result.success
    assert q(copy, "SELECT model, version, status, finished_at FROM model_trainings ORDER BY ALL") == before
    for asset in MODELS:
        meta = materialization(result, asset)
        assert meta["trained"].value is False, asset
        assert meta["current_version"].value == LAST.isoformat()
        # LAST + 7 (the version is then 7 days old) comes before the next grid day START + 63
        assert meta["next_training_due"].value == (LAST + dt.timedelta(days=7)).isoformat()
        assert "not trained" not in meta
        # the page shows the kept version's metrics and plots, as on the night it was trained
        metrics = json.loads(
            q(
                copy,
                "SELECT metrics FROM model_trainings WHERE model = $m AND version = $v",
                {"m": asset.removeprefix("model_"), "v": LAST},
            )[0][0]
        )
        shown = {k: v for k, v in metrics.items() if v == v}  # NaN aside
        assert shown and all(meta[k].value == pytest.approx(v) for k, v in shown.items()), asset
        if next(s.type for s in copy.models if f"model_{s.name}" == asset) != "clv":  # clv: no SHAP plots
            assert meta["plot_feature_impact"].value.startswith("![](data:image/png;base64,"), asset
    assert not (copy.warehouse_path.parent / "models" / "purchase_30d" / day.isoformat()).exists()
    active = q(
        copy,
        "SELECT count(*) FROM customers c WHERE _first_seen_at <= $d AND NOT EXISTS "
        "(SELECT 1 FROM customer_identities i WHERE i.customer_id = c.customuid AND i.excluded)",
        {"d": day},
    )[0][0]
    assert q(
        copy,
        "SELECT model, count(*), min(version), max(version) FROM predictions WHERE date = $d "
        "AND model <> 'ltv' GROUP BY 1 ORDER BY 1",  # ltv: the customers with a purchase
        {"d": day},
    ) == [
        ("churn_60d", active, LAST, LAST),
        ("product_recommender", active, LAST, LAST),
        ("purchase_30d", active, LAST, LAST),
    ]
    with pytest.raises(ConfigError, match=r"models\[0\]\.retrain_every_days"):
        parse_config(
            {**data, "models": [{**data["models"][0], "retrain_every_days": 0}]},
            config.base_dir / "nightjar.yaml",
            config.base_dir,
        )
