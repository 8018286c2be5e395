"""Champion / challenger: a new version (the challenger) becomes current only when its test AUC is at
least the current version's (the champion, the latest FINISHED before it) on the same test customers
minus ``promote_if.auc_tolerance``; otherwise it is recorded REJECTED with the reason and scoring keeps
the champion. People promote a version or roll the current one back (``nightjar model ...``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np

from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import execute_statements, scalar, table_exists, transaction
from pipeline.models import metrics as m
from pipeline.models import store
from pipeline.models.config import ModelSpec
from pipeline.models.features import customer_features
from pipeline.models.predict import align, predict
from pipeline.models.scoring import latest_finished
from pipeline.models.training import FINISHED, REJECTED, RETIRED, Trained, create_tables
from pipeline.models.types import Prepared, model_type


class VersionError(LookupError):
    """A promotion or rollback that cannot be done; the message says why."""


def champion(con: duckdb.DuckDBPyConnection, model: str, version: dt.date) -> dt.date | None:
    """The latest FINISHED version before ``version``."""
    return latest_finished(con, model, version - dt.timedelta(days=1))


def challenge(
    con: duckdb.DuckDBPyConnection, spec: ModelSpec, prepared: Prepared, trained: Trained, store_dir: Path
) -> None:
    """Set the trained version's status (FINISHED or REJECTED with the reason) from the champion's AUC
    on the challenger's test customers, recorded in its metrics."""
    if not model_type(spec.type).probability or trained.test is None:
        return
    current = champion(con, spec.name, trained.window.version)
    if current is None:
        return
    booster, meta = store.load(store_dir, spec.name, current)
    test = trained.test
    y = prepared.y[test]
    X = prepared.X[test]
    own = store.as_trained(spec, meta)
    if own is not spec:  # trained with other windows, history or exclusions: its own features at the cut-off
        X = customer_features(con, own, trained.window.cutoff, scoring=True).reindex(prepared.ids[test])
    p = predict(booster, align(X, meta["features"]), meta)
    champion_auc = m.auc(y, p)
    auc = trained.metrics["auc"]
    tolerance = spec.promote_if.auc_tolerance
    trained.metrics["champion_auc_same_customers"] = champion_auc
    trained.metrics["auc_gain_over_champion"] = auc - champion_auc
    if not auc >= champion_auc - tolerance:
        trained.status = REJECTED
        trained.reason = (
            f"test AUC {auc:.4f} is below the current version {current}'s {champion_auc:.4f} on the same "
            f"{len(y)} test customers minus the tolerance {tolerance:g} (promote_if.auc_tolerance)"
        )


def _status(con: duckdb.DuckDBPyConnection, model: str, version: dt.date) -> str | None:
    q = sql("models/status_of")
    return scalar(con, q, bind(q, {"model": model, "version": version}))


def promote(con: duckdb.DuckDBPyConnection, model: str, version: dt.date, store_dir: Path) -> None:
    """Make ``version`` (FINISHED, REJECTED or RETIRED, with its model file) the one in use: it is
    FINISHED and every FINISHED version after it RETIRED."""
    create_tables(con)
    status = _status(con, model, version)
    if status not in (FINISHED, REJECTED, RETIRED):
        raise VersionError(
            f"model {model!r} has no trained version {version} (status: {status or 'none'}): "
            "only a FINISHED, REJECTED or RETIRED version can be promoted"
        )
    _stored(store_dir, model, version)  # FileNotFoundError: gone
    with transaction(con):
        execute_statements(
            con, sql("models/retire_after"), {"model": model, "version": version, "reason": _why(version)}
        )


def _stored(store_dir: Path, model: str, version: dt.date) -> None:
    """Raise FileNotFoundError (naming the file) unless the version's files are in the store: its
    metadata and, for a LightGBM type, its model file."""
    _, meta = store.load_version(store_dir, model, version, boosted=False)
    store.load_version(store_dir, model, version, boosted=model_type(meta["type"]).boosted)


def _why(version: dt.date) -> str:
    return f"replaced: version {version} promoted on {dt.date.today()}"


def rollback(con: duckdb.DuckDBPyConnection, model: str, store_dir: Path) -> tuple[dt.date, dt.date]:
    """RETIRE the version in use (the latest FINISHED); returns (retired, now in use). Refused, nothing
    changed, when the version it would put back in use has lost its files (the night's scoring would
    fail on it)."""
    create_tables(con)
    current = champion(con, model, dt.date.max)
    if current is None:
        raise VersionError(f"model {model!r} has no FINISHED version to roll back")
    previous = champion(con, model, current)
    if previous is None:
        raise VersionError(
            f"model {model!r}: version {current} is the only FINISHED one; there is nothing to roll back to "
            "(promote an older REJECTED or RETIRED version instead)"
        )
    try:
        _stored(store_dir, model, previous)
    except FileNotFoundError as e:
        raise VersionError(
            f"cannot roll back to {e} (the version that would be in use again); nothing changed "
            "(promote a version whose files are there instead)"
        ) from None
    q = sql("models/retire")
    reason = f"rolled back on {dt.date.today()}; version {previous} back in use"
    con.execute(q, bind(q, {"model": model, "version": current, "reason": reason}))
    return current, previous


def versions(con: duckdb.DuckDBPyConnection, model: str) -> list[tuple]:
    """(version, status, test AUC, gain over the better baseline, reason) of every version, newest first."""
    if not table_exists(con, "model_trainings"):
        return []
    q = sql("models/versions")
    out = []
    for version, status, metrics, why in con.execute(q, bind(q, {"model": model})).fetchall():
        values = json.loads(metrics) if metrics else {}
        out.append(
            (version, status, values.get("auc", np.nan), values.get("auc_gain_over_baseline", np.nan), why)
        )
    return out
