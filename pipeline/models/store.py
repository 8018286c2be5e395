"""The model store: one folder per model and version holding LightGBM's own text format and a JSON
of metadata (features, parameters, metrics); a type that is not a booster (clv) has its parameters
in the metadata only. Written to a temporary folder, then renamed. Scoring keeps beside them the cells
the version scored last and their scores (cells.npz, predict.CellScores): cell indices, no customer
ids; and its trees compiled to machine code (forest-*.bin, pipeline/models/compiled.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.models import compiled
from pipeline.models.config import ModelSpec
from pipeline.models.predict import CellScores

if TYPE_CHECKING:  # lightgbm is imported where a model is trained or loaded
    import lightgbm as lgb

MODEL_FILE = "model.txt"
META_FILE = "metadata.json"
CELLS_FILE = "cells.npz"


# The settings a version's inputs are computed with (its features; a recommender's or clv model's history),
# recorded in its metadata: a config edited since changes the next training, not how this version scores.
# (A clv model's time unit is in its parameters.) A version saved before they were recorded takes the
# config's.
TRAINED_WITH = ("windows", "history_days", "exclude")


def trained_with(spec: ModelSpec) -> dict:
    """The TRAINED_WITH settings of a spec, as a version's metadata records them."""
    return {key: getattr(spec, key) for key in TRAINED_WITH}


def as_trained(spec: ModelSpec, meta: dict) -> ModelSpec:
    """``spec`` with the TRAINED_WITH settings the version (``meta``: its metadata) was trained with."""
    recorded = {key: meta[key] for key in TRAINED_WITH if key in meta}
    if all(getattr(spec, key) == value for key, value in recorded.items()):
        return spec
    return spec.model_copy(update=recorded)


def version_dir(store: Path, model: str, version: dt.date) -> Path:
    return Path(store) / model / version.isoformat()


def save(store: Path, model: str, version: dt.date, booster: lgb.Booster | None, meta: dict) -> Path:
    """Write the model and its metadata; replaces a previous save of the same version whole (one whose
    training did not end: training.record refuses a trained version, which is never replaced)."""
    final = version_dir(store, model, version)
    compiled.wait(final)  # a compile of the version saved before writes into its folder
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if booster is not None:
        booster.save_model(str(tmp / MODEL_FILE))
    (tmp / META_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return final


class VersionFilesMissing(FileNotFoundError):
    """A version's file is not in the store (its folder deleted by hand, say); the message names the
    model, the version and the file."""


def _present(store: Path, model: str, version: dt.date, *names: str) -> Path:
    """The version's folder; VersionFilesMissing unless each of ``names`` is a file in it."""
    folder = version_dir(store, model, version)
    for name in names:
        if not (folder / name).is_file():
            raise VersionFilesMissing(f"model {model!r} version {version}: no {name} in {folder}")
    return folder


def load(store: Path, model: str, version: dt.date) -> tuple[lgb.Booster, dict]:
    import lightgbm as lgb

    folder = _present(store, model, version, MODEL_FILE, META_FILE)
    booster = lgb.Booster(model_file=str(folder / MODEL_FILE))
    return booster, json.loads((folder / META_FILE).read_text(encoding="utf-8"))


def load_version(store: Path, model: str, version: dt.date, boosted: bool) -> tuple[lgb.Booster | None, dict]:
    """(the booster, the metadata) of a LightGBM type's version; (None, the metadata) of another's."""
    if boosted:
        return load(store, model, version)
    folder = _present(store, model, version, META_FILE)
    return None, json.loads((folder / META_FILE).read_text(encoding="utf-8"))


def load_compiled(store: Path, model: str, version: dt.date, booster: lgb.Booster, meta: dict) -> dict:
    """``meta`` with the version's trees compiled (compiled.forest: kept beside its model file, compiled
    on the version's first scoring) for predict to score with; as it is when they cannot be compiled."""
    folder = version_dir(store, model, version)
    forest = compiled.forest(folder, folder / MODEL_FILE, booster, meta)
    return meta if forest is None else {**meta, compiled.FOREST: forest}


def compile_soon(store: Path, model: str, version: dt.date) -> None:
    """Start compiling the saved version's trees in the background (compiled.compile_soon) for a
    scoring of it later in this process, which then finds them kept."""
    folder = version_dir(store, model, version)
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    compiled.compile_soon(folder, folder / MODEL_FILE, meta)


def compiling(store: Path, model: str) -> bool:
    """Whether a version of ``model`` is being compiled in the background (compile_soon)."""
    return compiled.compiling(Path(store) / model)


def load_cells(store: Path, model: str, version: dt.date) -> CellScores:
    """The cells the version scored last and their scores (none before its first scoring)."""
    path = version_dir(store, model, version) / CELLS_FILE
    if not path.is_file():
        return CellScores()
    with np.load(path) as saved:
        return CellScores(saved["keys"], saved["scores"])


def save_cells(store: Path, model: str, version: dt.date, cells: CellScores) -> None:
    """Replace the version's scored cells (written beside, then renamed: a reader sees old or new)."""
    path = version_dir(store, model, version) / CELLS_FILE
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as out:
        np.savez(out, keys=cells.keys, scores=cells.scores)
    os.replace(tmp, path)
