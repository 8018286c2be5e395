"""Champion / challenger: a new version (the challenger) becomes current only when its test AUC is at
least the current version's (the champion, the latest FINISHED before it) on the same test customers
minus ``promote_if.auc_tolerance``, and when it beats the better of its baselines (recency, RFM) on its
test split by at least ``promote_if.min_gain_over_baseline`` (a first version too, with no champion;
unless the champion does worse still on the same customers); otherwise it is recorded REJECTED with
the reason and scoring keeps the champion (with none, the model is not scored). People promote a
version or roll the current one back (``nightjar model ...``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np

from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import execute_statements, table_exists, transaction
from pipeline.models import metrics as m
from pipeline.models import store
from pipeline.models.config import ModelSpec
from pipeline.models.features import customer_features
from pipeline.models.predict import align, predict
from pipeline.models.scoring import latest_finished, status_of
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
    """Set the trained version's status: REJECTED with the reasons when its test AUC does not beat its
    better baseline by ``promote_if.min_gain_over_baseline`` or is below the champion's on the same
    test customers minus ``promote_if.auc_tolerance`` (the champion's AUC goes into its metrics).

    One exception: a version below its baseline that does better than the champion on the same
    customers (so the champion is further below the same baseline there) replaces it all the same,
    with the shortfall in ``trained.warning``: keeping the champion would score worse. With the check
    off (null, the default), a version below its baseline is used with that in ``trained.warning``."""
    if not model_type(spec.type).probability or trained.test is None:
        return
    promote_if = spec.promote_if
    shortfall = below_baseline(trained.metrics, trained.best_baseline, promote_if.min_gain_over_baseline)
    reasons = [shortfall] if shortfall else []
    if promote_if.min_gain_over_baseline is None and (
        gap := baseline_gap(trained.metrics, trained.best_baseline)
    ):
        trained.warning = f"{gap}; in use all the same (promote_if.min_gain_over_baseline is not set)"
    measured = _champion_auc(con, spec, prepared, trained, store_dir)
    if measured is not None:
        current, champion_auc, customers = measured
        auc = trained.metrics["auc"]
        if not auc >= champion_auc - promote_if.auc_tolerance:
            reasons.append(
                f"test AUC {auc:.4f} is below the current version {current}'s {champion_auc:.4f} on the "
                f"same {customers} test customers minus the tolerance {promote_if.auc_tolerance:g} "
                "(promote_if.auc_tolerance)"
            )
        elif shortfall and auc > champion_auc:
            trained.warning = (
                f"{shortfall}; in use all the same: the current version {current} does worse on the same "
                f"{customers} test customers ({champion_auc:.4f})"
            )
            reasons = []
    if reasons:
        trained.status = REJECTED
        trained.reason = "; ".join(reasons)


def below_baseline(metrics: dict[str, float], best: str | None, min_gain: float | None) -> str | None:
    """Why a version's test AUC does not beat its better baseline (``best``) by ``min_gain`` AUC points
    (promote_if.min_gain_over_baseline), or None: it does, or the check is off (``min_gain`` None)."""
    gain = metrics.get("auc_gain_over_baseline")
    if min_gain is None or gain is None or gain >= min_gain:
        return None
    return f"{_versus(metrics, best)}; promote_if.min_gain_over_baseline asks a gain of at least {min_gain:g}"


def baseline_gap(metrics: dict[str, float], best: str | None) -> str | None:
    """How far a version's test AUC is below its better baseline (``best``), or None: it is not."""
    gain = metrics.get("auc_gain_over_baseline")
    return _versus(metrics, best) if gain is not None and gain < 0 else None


def _versus(metrics: dict[str, float], best: str | None) -> str:
    gain = metrics["auc_gain_over_baseline"]
    return (
        f"test AUC {metrics['auc']:.4f} is {'below' if gain < 0 else 'above'} its better baseline ({best}) "
        f"{metrics[f'baseline_{best}_auc']:.4f} by {abs(gain):.4f} on the same test customers"
    )


def _champion_auc(
    con: duckdb.DuckDBPyConnection, spec: ModelSpec, prepared: Prepared, trained: Trained, store_dir: Path
) -> tuple[dt.date, float, int] | None:
    """(the champion, its AUC on the trained version's test customers, how many) or None (no champion,
    or one whose files are gone: said in ``trained.warning``); the champion's AUC and the gain over it
    go into the trained version's metrics."""
    current, test = champion(con, spec.name, trained.window.version), trained.test
    if current is None or test is None:
        return None
    try:
        booster, meta = store.load(store_dir, spec.name, current)
    except store.VersionFilesMissing as e:  # a champion that cannot score either: the challenger replaces it
        gone = f"not compared with the current version: {e} (its files are gone)"
        trained.warning = f"{trained.warning}; {gone}" if trained.warning else gone
        return None
    y = prepared.y[test]
    X = prepared.X[test]
    own = store.as_trained(spec, meta)
    if own is not spec:  # trained with other windows, history or exclusions: its own features at the cut-off
        X = customer_features(con, own, trained.window.cutoff, scoring=True).reindex(prepared.ids[test])
    p = predict(booster, align(X, meta["features"]), meta)
    champion_auc = m.auc(y, p)
    trained.metrics["champion_auc_same_customers"] = champion_auc
    trained.metrics["auc_gain_over_champion"] = trained.metrics["auc"] - champion_auc
    return current, champion_auc, len(y)


def promote(con: duckdb.DuckDBPyConnection, model: str, version: dt.date, store_dir: Path) -> None:
    """Make ``version`` (FINISHED, REJECTED or RETIRED, with its model file) the one in use: it is
    FINISHED and every FINISHED version after it RETIRED."""
    create_tables(con)
    status = status_of(con, model, version)
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
