"""A run that trains the response/churn models and then scores the same night computes the night's
customer features once: its predictions step takes the frame the trainings computed (and kept for it)."""

from __future__ import annotations

import datetime as dt
import shutil
import threading

import numpy as np

from pipeline.config import parse_config
from pipeline.core.warehouse import connect
from pipeline.models import compiled, predict, training
from pipeline.models.scoring import score
from tests.assets.models.conftest import LAST, copy_world
from tests.conftest import run_nightly

SHARED = ["purchase_30d", "churn_60d"]  # the same feature windows


def test_a_run_that_trains_then_scores_computes_the_nights_features_once(world, tmp_path, monkeypatch):
    """Two days as one run (a range trains its last day): the night of the last day is computed once,
    by the trainings, and its predictions equal a scoring that computes the features afresh; the day
    before (no version yet) takes nothing; nothing is kept after the run. The new versions' trees are
    compiled on the background thread as their trainings end, not by the scoring, and the day's rows
    are written in the config's order of the models."""
    config, _ = world
    copy = parse_config(copy_world(config, tmp_path), config.base_dir / "nightjar.yaml", config.base_dir)
    with connect(copy.warehouse_path) as con:  # no version of the two yet (a trained one never trains again)
        con.execute("DELETE FROM model_trainings WHERE list_contains($m, model)", {"m": SHARED})
    for name in SHARED:
        shutil.rmtree(copy.warehouse_path.parent / "models" / name)
    computed: list[dt.date] = []
    own = predict.feature_frame
    monkeypatch.setattr(predict, "feature_frame", lambda *a, **k: computed.append(a[2]) or own(*a, **k))
    compiles: list[str] = []  # the thread of each compile (a version with no compiled file yet)
    own_compile = compiled._compiled

    def spy(folder, *args):
        if not list(folder.glob(f"{compiled.FILE_PREFIX}*")):
            compiles.append(threading.current_thread().name)
        return own_compile(folder, *args)

    monkeypatch.setattr(compiled, "_compiled", spy)
    night = LAST + dt.timedelta(days=1)
    result = run_nightly(
        copy, LAST - dt.timedelta(days=1), LAST, assets=[f"model_{m}" for m in SHARED] + ["predictions"]
    )
    assert result.success
    assert computed.count(night) == 1, computed  # the trainings' drift reference; scoring took it
    assert result.run_id not in training._SHARED_NIGHT  # released by the predictions step
    assert len(compiles) == len(SHARED) and all(t.startswith("nightjar-compile") for t in compiles)
    with connect(copy.warehouse_path, read_only=True) as con:
        q = "SELECT model FROM predictions WHERE date = $d ORDER BY rowid"
        written = list(dict.fromkeys(r[0] for r in con.execute(q, {"d": LAST}).fetchall()))
        assert set(SHARED) <= set(written)
        assert written == [m.name for m in copy.models if m.name in written]
        for name in SHARED:
            q = "SELECT customer_id, score FROM predictions WHERE date = $d AND model = $m"
            written = con.execute(q + " ORDER BY customer_id", {"d": LAST, "m": name}).df()
            _, fresh = score(con, copy, copy.model(name), LAST, copy.warehouse_path.parent / "models", None)
            fresh = fresh.sort_values("customer_id")
            assert len(written) == len(fresh) > 1000
            assert written["customer_id"].tolist() == fresh["customer_id"].tolist()
            np.testing.assert_array_equal(written["score"].to_numpy(), fresh["score"].to_numpy())
    assert computed.count(night) == 3  # the two fresh scorings computed their own


def test_the_night_is_kept_only_for_a_run_that_scores_it(world):
    """night_features keeps the frame after both models read it only when the run scores (``scored``);
    scored_night hands over the night's entries and nothing else, and release_night drops the rest."""
    config, _ = world
    specs = [config.model(m) for m in SHARED]
    night = LAST + dt.timedelta(days=1)
    with connect(config.warehouse_path, read_only=True) as con:
        prepared = {s.name: training.prepare(con, config, s, LAST) for s in specs}
        for s in specs:
            training.night_features(con, s, prepared[s.name], "run a", config.models)
        assert not training._SHARED_NIGHT["run a"][0]  # not scored: let go after both
        frames = [
            training.night_features(con, s, prepared[s.name], "run b", config.models, scored=True)
            for s in specs
        ]
    cache = training._SHARED_NIGHT["run b"][0]
    assert len(cache) == 1
    assert training.scored_night("run b", LAST) == {}  # another day's cut-off: nothing
    taken = training.scored_night("run b", night)
    assert len(taken) == 1 and not training._SHARED_NIGHT["run b"][0]
    frame = next(iter(taken.values()))
    for f in frames:
        assert f.index.isin(frame.index).all() and set(f.columns) <= set(frame.columns)
    training.release_night("run b")
    assert "run b" not in training._SHARED_NIGHT
