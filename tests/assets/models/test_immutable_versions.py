"""A trained version does not change: a re-run of its partition keeps it (its files, its record, the
scores it gave), whatever changed since; and a FINISHED version whose files are gone stops only its
own model's scoring, saying which file is missing and what to do, while the other models score."""

from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg

from pipeline.config import parse_config
from pipeline.models import store
from tests.assets.models.conftest import LAST, copy_world, materialization, q
from tests.conftest import run_nightly

MODEL = "purchase_30d"
FILES = (store.MODEL_FILE, store.META_FILE)
EXPLANATIONS = ("model_feature_impact", "model_beeswarm", "model_dependence")


def _scores(config, day) -> list[tuple]:
    return q(
        config,
        "SELECT customer_id, version, score FROM predictions WHERE model = $m AND date = $d ORDER BY 1",
        {"m": MODEL, "d": day},
    )


def _version(config) -> dict:
    """Everything a version is: its files, its record and its explanations."""
    folder = store.version_dir(config.warehouse_path.parent / "models", MODEL, LAST)
    record = q(
        config, "SELECT * FROM model_trainings WHERE model = $m AND version = $v", {"m": MODEL, "v": LAST}
    )
    return {
        **{name: (folder / name).read_bytes() for name in FILES},
        "model_trainings": record,
        **{
            table: q(
                config,
                f"SELECT * FROM {table} WHERE model = $m AND version = $v ORDER BY ALL",
                {"m": MODEL, "v": LAST},
            )
            for table in EXPLANATIONS
        },
    }


def test_a_rerun_of_a_trained_versions_partition_keeps_the_version_and_the_scores_it_gave(world, tmp_path):
    """The version of LAST scored the night after it; then the config changed (another seed: a late
    file would do the same) and a backfill range ending on LAST ran again. The version stays as it
    was, so the night's predictions, which name it, are reproduced from it exactly."""
    config, _ = world
    data = copy_world(config, tmp_path)
    copy = parse_config(data, config.base_dir / "nightjar.yaml", config.base_dir)
    day = LAST + dt.timedelta(days=1)
    assert run_nightly(copy, day, assets=["predictions"]).success
    scored, before = _scores(copy, day), _version(copy)
    assert {v for _, v, _ in scored} == {LAST}
    data["models"][0] = {**data["models"][0], "seed": data["models"][0].get("seed", 7) + 1}
    edited = parse_config(data, config.base_dir / "nightjar.yaml", config.base_dir)
    result = run_nightly(edited, LAST - dt.timedelta(days=1), LAST, assets=[f"model_{MODEL}"])
    assert result.success
    after = _version(edited)
    assert [k for k in before if after[k] != before[k]] == []
    assert run_nightly(edited, day, assets=["predictions"]).success
    rescored = _scores(edited, day)
    assert sum(a != b for a, b in zip(rescored, scored, strict=True)) == 0
    meta = result.asset_materializations_for_node(f"model_{MODEL}")[-1].metadata  # a range: one per day
    assert meta["trained"].value is False and meta["current_version"].value == LAST.isoformat()
    assert f"version {LAST} is already trained (FINISHED)" in meta["reason"].value


def test_a_finished_version_whose_files_are_gone_stops_only_its_model(world, tmp_path):
    config, _ = world
    copy = parse_config(copy_world(config, tmp_path), config.base_dir / "nightjar.yaml", config.base_dir)
    folder = store.version_dir(copy.warehouse_path.parent / "models", MODEL, LAST)
    shutil.rmtree(folder)
    day = LAST + dt.timedelta(days=1)
    instance = dg.DagsterInstance.ephemeral()
    result = run_nightly(copy, day, assets=["predictions"], instance=instance)
    assert result.success
    said = [e.user_message for e in instance.all_logs(result.run_id) if f"model '{MODEL}'" in e.user_message]
    assert len(said) == 1, said
    assert f"model '{MODEL}' version {LAST}: no {store.MODEL_FILE} in {folder}" in said[0]
    assert f"nightjar model rollback {MODEL}" in said[0]
    scored = q(
        copy, "SELECT model, count(*) FROM predictions WHERE date = $d GROUP BY 1 ORDER BY 1", {"d": day}
    )
    assert [m for m, _ in scored] == sorted(s.name for s in copy.models if s.name != MODEL)
    assert all(n > 0 for _, n in scored)
    assert materialization(result, "predictions")["not_scored"].value == said[0]
    # its drift check says so (a warning), not "passed"
    check = next(
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.asset_check_evaluation_data.check_name == f"drift_{MODEL}"
    )
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["not_scored"].value == said[0]


def test_a_training_night_whose_champions_files_are_gone_trains_and_scores_every_model(world, tmp_path):
    """The champion cannot be compared (nor score): the new version replaces it, saying why, and the
    night's predictions (after the trainings) score every model."""
    config, _ = world
    data = copy_world(config, tmp_path)
    data["models"][0] = {**data["models"][0], "retrain_every_days": 1}  # the next night trains
    copy = parse_config(data, config.base_dir / "nightjar.yaml", config.base_dir)
    folder = store.version_dir(copy.warehouse_path.parent / "models", MODEL, LAST)
    shutil.rmtree(folder)
    day = LAST + dt.timedelta(days=1)
    result = run_nightly(copy, day, assets=[f"model_{MODEL}", "predictions"])
    assert result.success
    warning = materialization(result, f"model_{MODEL}")["warning"].value
    assert f"not compared with the current version: model '{MODEL}' version {LAST}: no model.txt" in warning
    scored = q(
        copy,
        "SELECT model, min(version), max(version) FROM predictions WHERE date = $d GROUP BY 1",
        {"d": day},
    )
    assert {m: (lo, hi) for m, lo, hi in scored} == {
        s.name: (day, day) if s.name == MODEL else (LAST, LAST) for s in copy.models
    }
