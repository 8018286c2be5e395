"""Model assets: one training asset per configured model (one partition = one version), and the
daily `predictions` scored by the latest FINISHED version of each model."""

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pandas as pd

from pipeline.config import ProjectConfig
from pipeline.core.metadata import column_schema, markdown_table
from pipeline.core.partitions import days_in
from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import POOL, WarehouseResource, scalar
from pipeline.models import champion, store, training
from pipeline.models.cadence import training_due
from pipeline.models.config import ModelSpec
from pipeline.models.drift import level
from pipeline.models.features import NotEnoughData, TrainingError
from pipeline.models.scoring import (
    PREDICTIONS,
    NoModelVersion,
    latest_finished,
    latest_rejected,
    night_drift,
    score,
    status_of,
    write_predictions,
)
from pipeline.models.types import model_type

SCORES_IN_RANGE = "scores_are_probabilities"
UPSTREAM = [dg.AssetKey("events"), dg.AssetKey("customer_identities")]


def model_asset_name(spec: ModelSpec) -> str:
    return f"model_{spec.name}"


def store_dir(warehouse: WarehouseResource) -> Path:
    """Models live beside the warehouse: <warehouse folder>/models/<model>/<version>/."""
    return Path(warehouse.path).resolve().parent / "models"


def _metadata(spec: ModelSpec, trained: training.Trained, path: Path, note: str | None) -> dict:
    w = trained.window
    meta: dict = {name: dg.MetadataValue.float(float(v)) for name, v in trained.metrics.items()}
    meta.update(
        {
            "version": w.version.isoformat(),
            "cutoff": w.cutoff.isoformat(),
            "label_window": f"{w.label_start} .. {w.label_end} (exclusive), {w.label_days} day(s)"
            + (
                f" — shorter than the horizon of {spec.label.horizon_days} days: the warehouse is young"
                if w.truncated
                else ""
            ),
            "customers": trained.customers,
            "positives": trained.positives,
            "features": dg.MetadataValue.md(
                markdown_table(
                    ["rank", "feature", "mean |SHAP|"],
                    trained.impact[["rank", "feature", "mean_abs_shap"]].round(5).values.tolist(),
                )
            ),
            "params": dg.MetadataValue.json(trained.params),
            "model_path": dg.MetadataValue.path(str(path)),
            **{f"plot_{name}": dg.MetadataValue.md(md) for name, md in trained.plots.items()},
        }
    )
    if trained.calibration is not None:
        cal = trained.calibration.round(4).reset_index(names="bin")
        meta["calibration"] = dg.MetadataValue.md(markdown_table(list(cal.columns), cal.values.tolist()))
    if trained.best_baseline:
        meta["best_baseline"] = trained.best_baseline
    meta["status"] = trained.status
    if trained.reason:
        meta["rejected"] = trained.reason
    if trained.warning:
        meta["warning"] = trained.warning
    if note:
        meta["note"] = note
    return meta


PAGE = "page.json"  # beside a version's model file: what its asset page shows on nights it is kept


def _save_page(path: Path, trained: training.Trained, meta: dict) -> None:
    page = {"metrics": trained.metrics, "plots": trained.plots, "features": meta["features"].value}
    (path / PAGE).write_text(json.dumps(page, default=float), encoding="utf-8")


def _current_page(warehouse: WarehouseResource, spec: ModelSpec, version) -> dict:
    """The metrics and plots of the version a night keeps, as its training showed them (every model
    materialization carries the current version's page, retrained or not)."""
    path = store_dir(warehouse) / spec.name / version.isoformat() / PAGE
    if not path.is_file():
        return {"note": f"the page of version {version} was not stored (trained before pages were kept)"}
    page = json.loads(path.read_text(encoding="utf-8"))
    return {
        **{name: dg.MetadataValue.float(float(v)) for name, v in page["metrics"].items()},
        "features": dg.MetadataValue.md(page["features"]),
        **{f"plot_{name}": dg.MetadataValue.md(md) for name, md in page["plots"].items()},
    }


def build_model_asset(
    config: ProjectConfig, spec: ModelSpec, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    @dg.asset(
        name=model_asset_name(spec),
        group_name="models",
        deps=UPSTREAM,
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        kinds={"lightgbm", "duckdb"},
        description=f"Trains the {spec.type} model {spec.name!r} every {spec.retrain_every_days} day(s) "
        "(one partition = one version, trained on the data up to that day; a range trains its last day; "
        "a version already trained is never trained again; a night that is not due keeps the current "
        "version). Writes model_trainings, the explanation "
        "tables and the model file; metrics on the test split, plots of the SHAP explanations.",
    )
    def _train(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        days = days_in(context.partition_time_window)
        version = days[-1]
        with warehouse.connect() as con:
            current = latest_finished(con, spec.name, version)
            rejected = latest_rejected(con, spec.name, version)
            status = status_of(con, spec.name, version)
        cadence = training_due(
            version,
            spec.retrain_every_days,
            config.start_date,
            current,
            is_range=len(days) > 1,
            trained=status if status in training.TRAINED else None,
            rejected=rejected,
        )
        if not cadence.train:
            # a night that keeps its version knows when the next is due; it has one (current) unless
            # its own version was trained and REJECTED with none before it
            assert cadence.next_due is not None
            context.log.info(f"{spec.name} {version}: not trained: {cadence.reason}")
            return dg.MaterializeResult(
                metadata={
                    **(_current_page(warehouse, spec, cadence.current) if cadence.current else {}),
                    "trained": False,
                    "current_version": cadence.current.isoformat() if cadence.current else "none",
                    "next_training_due": cadence.next_due.isoformat(),
                    "reason": cadence.reason,
                    "retrain_every_days": spec.retrain_every_days,
                }
            )
        context.log.info(f"{spec.name} {version}: training: {cadence.reason}")
        with warehouse.connect() as con:
            training.mark(con, spec, version, training.QUEUED)
        try:
            with warehouse.connect() as con:
                training.mark(con, spec, version, training.RUNNING)
                prepared = training.prepare(con, config, spec, version)
                night = training.night_features(
                    con, spec, prepared, context.run_id, config.models, scored=_scores(context)
                )
            reference, note = training.reference_scores(config, spec)
            trained = training.train(prepared, spec, reference, night=night)
            with warehouse.connect() as con:
                champion.challenge(con, spec, prepared, trained, store_dir(warehouse))
                path = training.record(con, spec, trained, store_dir(warehouse))
            if trained.booster is not None and trained.status == training.FINISHED and _scores(context):
                # the run scores this version next: its trees compile meanwhile, on what the cores leave
                store.compile_soon(store_dir(warehouse), spec.name, version)
        except NotEnoughData as e:
            # A young warehouse: recorded (FAILED, with the reason) but the night's run goes on.
            with warehouse.connect() as con:
                training.fail(con, spec, version, str(e))
            context.log.warning(f"{spec.name} {version}: not trained: {e}")
            return dg.MaterializeResult(metadata={"version": version.isoformat(), "not_trained": str(e)})
        except TrainingError as e:
            with warehouse.connect() as con:
                training.fail(con, spec, version, str(e))
            raise dg.Failure(description=str(e), allow_retries=False) from None  # bad data stays bad
        except Exception as e:
            with warehouse.connect() as con:
                training.fail(con, spec, version, f"{type(e).__name__}: {e}")
            raise
        m = trained.metrics
        if trained.reason:
            context.log.warning(f"{spec.name} {version}: REJECTED: {trained.reason}")
        if trained.warning:
            context.log.warning(f"{spec.name} {version}: {trained.warning}")
        context.log.info(f"{spec.name} {version}: " + ", ".join(f"{k}={v:.4f}" for k, v in m.items()))
        meta = _metadata(spec, trained, path, note)
        _save_page(path, trained, meta)
        return dg.MaterializeResult(
            metadata={
                **meta,
                "trained": True,
                "training_reason": cadence.reason,
                "retrain_every_days": spec.retrain_every_days,
            }
        )

    return _train


def _scores(context: dg.AssetExecutionContext) -> bool:
    """Whether the run also materializes predictions (its selection, or when it selected nothing, its
    job's assets: a whole-job run's selection is empty)."""
    selected = context.run.asset_selection or context.job_def.asset_layer.executable_asset_keys
    return dg.AssetKey(PREDICTIONS) in selected


def drift_check_name(spec: ModelSpec) -> str:
    return f"drift_{spec.name}"


def drift_specs(config: ProjectConfig) -> list[dg.AssetCheckSpec]:
    """One drift check per response/churn model."""
    return [
        dg.AssetCheckSpec(
            drift_check_name(s),
            asset=PREDICTIONS,
            description=f"Population stability index of {s.name}'s score and top {s.drift.features} features "
            f"between its training population and the night's customers: warns above {s.drift.warn:g}, "
            f"fails above {s.drift.fail:g}",
        )
        for s in config.models
        if model_type(s.type).probability
    ]


def drift_result(
    spec: ModelSpec, day, table: pd.DataFrame | None, gone: str | None = None
) -> dg.AssetCheckResult:
    """The check of one model's drift on ``day`` (passed, or a warning / an error above the limits); a
    warning saying why (``gone``) when the model was not scored because its version's files are gone."""
    name = drift_check_name(spec)
    if gone is not None:
        return dg.AssetCheckResult(
            check_name=name, passed=False, severity=dg.AssetCheckSeverity.WARN, metadata={"not_scored": gone}
        )
    if table is None or not len(table):
        return dg.AssetCheckResult(
            check_name=name, passed=True, metadata={"note": f"{day}: no version with reference bins scored"}
        )
    worst = float(table["psi"].iloc[0])
    verdict = level(worst, spec.drift.warn, spec.drift.fail)
    return dg.AssetCheckResult(
        check_name=name,
        passed=verdict == "ok",
        severity=dg.AssetCheckSeverity.ERROR if verdict == "fail" else dg.AssetCheckSeverity.WARN,
        metadata={
            "date": str(day),
            "max_psi": dg.MetadataValue.float(worst),
            "worst_column": str(table["column"].iloc[0]),
            **{f"psi_{c}": dg.MetadataValue.float(float(v)) for c, v in table.values.tolist()},
            "psi": dg.MetadataValue.md(markdown_table(["column", "PSI"], table.round(4).values.tolist())),
        },
    )


def _files_missing(spec: ModelSpec, error: FileNotFoundError) -> str:
    """The one line that says a model is not scored because its version's files are gone, and what to do."""
    return (
        f"{error}: the files of this FINISHED version are gone, so model {spec.name!r} is not scored "
        f"(the other models are); put the folder back, or retire the version with `nightjar model rollback "
        f"{spec.name}` (the previous FINISHED version scores again; the next training due makes a new one)"
    )


def build_predictions_asset(
    config: ProjectConfig, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    @dg.asset(
        name=PREDICTIONS,
        group_name="models",
        deps=UPSTREAM + [dg.AssetKey(model_asset_name(s)) for s in config.models],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        kinds={"duckdb"},
        description="Scores of every active customer per day and model (date, customer_id, model, version, "
        "score, items) from the latest FINISHED version of each model on or before the day; a recommender's "
        "top-k in items.",
        check_specs=[
            dg.AssetCheckSpec(
                SCORES_IN_RANGE, asset=PREDICTIONS, description="Every score is a probability in [0, 1]"
            ),
            *drift_specs(config),
        ],
    )
    def _predictions(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        days = days_in(context.partition_time_window)
        rows: list[tuple] = []
        drifts: dict[str, pd.DataFrame | None] = {}  # of the last day
        missing: dict[str, str] = {}  # a model's version whose files are gone -> what to do (said once)
        unscored: dict[str, str] = {}  # the models not scored on the last day for that reason
        with warehouse.connect() as con:
            training.create_tables(con)
            for day in days:
                frames: dict[str, pd.DataFrame] = {}
                by_model: dict[str, tuple] = {}
                # the night's features this run's trainings computed for the day, if any (else computed)
                cache: dict = training.scored_night(context.run_id, day + dt.timedelta(days=1))
                # a version whose trees are still compiling (this run trained it) is scored last, so the
                # compile has the others' time; the rows are written in the config's order all the same
                order = sorted(config.models, key=lambda s: store.compiling(store_dir(warehouse), s.name))
                for spec in order:
                    try:
                        version, frame = score(con, config, spec, day, store_dir(warehouse), cache)
                    except NoModelVersion as e:
                        context.log.warning(f"{day}: {e}; not scored")
                        continue
                    except store.VersionFilesMissing as e:
                        # that model only: the others score (its scores of these days are not written)
                        if str(e) not in missing:
                            missing[str(e)] = _files_missing(spec, e)
                            context.log.error(missing[str(e)])
                        if day == days[-1]:
                            unscored[spec.name] = missing[str(e)]
                        continue
                    frames[spec.name] = frame
                    if day == days[-1] and model_type(spec.type).probability:
                        drifts[spec.name] = night_drift(
                            con, spec, day, version, frame, store_dir(warehouse), cache
                        )
                    by_model[spec.name] = (
                        day,
                        spec.name,
                        version,
                        len(frame),
                        round(float(frame["score"].mean()), 4) if len(frame) else None,
                    )
                scored = [s.name for s in config.models if s.name in frames]
                rows.extend(by_model[name] for name in scored)
                write_predictions(con, day, [frames[name] for name in scored])
            training.release_night(context.run_id)
            q = sql("models/predictions/scores_outside_0_1")
            bad = scalar(con, q, bind(q, {"first": days[0], "last": days[-1]}))
            schema = column_schema(con, PREDICTIONS)
        total = sum(r[3] for r in rows)
        return dg.MaterializeResult(
            metadata={
                "rows": total,
                "by_model": dg.MetadataValue.md(
                    markdown_table(["date", "model", "version", "customers", "mean score"], rows)
                    if rows
                    else "no model has a FINISHED version yet: nothing scored"
                ),
                **({"not_scored": dg.MetadataValue.md("\n\n".join(missing.values()))} if missing else {}),
                "dagster/column_schema": schema,
                **({"dagster/row_count": total} if len(days) == 1 else {}),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=SCORES_IN_RANGE, passed=bad == 0, metadata={"scores_outside_0_1": bad}
                ),
                *[
                    drift_result(s, days[-1], drifts.get(s.name), unscored.get(s.name))
                    for s in config.models
                    if model_type(s.type).probability
                ],
            ],
        )

    return _predictions


def build_model_assets(
    config: ProjectConfig, partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    if not config.models:
        return []
    return [build_model_asset(config, s, partitions) for s in config.models] + [
        build_predictions_asset(config, partitions)
    ]
