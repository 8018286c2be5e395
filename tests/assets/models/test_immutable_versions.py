"""A trained version does not change: a re-run of its partition keeps it (its files, its record, the
scores it gave), whatever changed since; and a FINISHED version whose files are gone stops only its
own model's scoring, saying which file is missing and what to do, while the other models score."""

from __future__ import annotations

import datetime as dt

from pipeline.config import parse_config
from pipeline.models import store
from tests.assets.models.conftest import LAST, copy_world, q
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
