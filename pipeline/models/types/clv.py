"""Customer lifetime value (``type: clv``): BG/NBD and Gamma-Gamma (pipeline/models/clv.py) fitted on
each customer's purchases (the label rules' qualifying events). A version is measured as the standard
practice has it: BG/NBD fitted on the ``history_days`` before the cut-off (the calibration period),
its expected purchases against the purchases of the label window after it (the holdout); its stored
parameters are fitted on the ``history_days`` up to the version day (BG/NBD needs no label). It is
scored nightly as the expected purchases in the next ``label.horizon_days``, P(alive) and the
expected value (the ``clv`` table; ``predictions`` holds P(alive) as the score)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from pipeline.core.settings import at
from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import EXACT_SUM_LIMIT, scalar
from pipeline.models import clv
from pipeline.models.config import ModelsConfig, ModelSpec
from pipeline.models.features import (
    NotEnoughData,
    TrainingError,
    TrainingWindow,
    build_population,
    qualifying_events,
)
from pipeline.models.predict import CellScores
from pipeline.models.registry import register
from pipeline.models.types.base import ModelType, OwnFit, Prepared

if TYPE_CHECKING:  # lightgbm is imported where a model is trained or loaded
    import lightgbm as lgb

SUMMARY = ["frequency", "recency", "T", "monetary_value"]
UNIT_DAYS = {"days": 1, "weeks": 7}
CLV_COLUMNS = ["p_alive", "expected_purchases", "expected_spend", "clv"]
BOUNDARY_R = 1_000.0  # a BG/NBD shape r above this: the purchase rates' Gamma has collapsed to one rate


def purchase_summary(
    con: duckdb.DuckDBPyConnection,
    config: ModelsConfig,
    spec: ModelSpec,
    cutoff: dt.date,
    time_unit: str | None = None,
) -> pd.DataFrame:
    """frequency, recency, T (in ``time_unit``, else the spec's) and monetary_value of each customer of
    the population with a qualifying purchase in the ``history_days`` before ``cutoff`` (index
    customer_id, sorted)."""
    build_population(con, cutoff)
    qualifying_events(con, config, spec, cutoff - dt.timedelta(days=spec.history_days), cutoff)
    return summarise(con, cutoff, time_unit or spec.time_unit)


def summarise(con: duckdb.DuckDBPyConnection, cutoff: dt.date, time_unit: str) -> pd.DataFrame:
    """The summary (SUMMARY columns, index customer_id) of the purchases in _qualifying of the
    customers in _population (sql/models/clv/summary.sql)."""
    # the values could add up past what an exact sum holds (1e20): summed as doubles
    wide = float(scalar(con, sql("core/value_bound", idents={"table": "_qualifying"}))) >= EXACT_SUM_LIMIT
    day_value = sql("models/clv/day_value_wide" if wide else "models/clv/day_value")
    q = sql("models/clv/summary", fragments={"day_value": day_value})
    frame = con.execute(q, bind(q, {"cutoff": cutoff, "unit_days": UNIT_DAYS[time_unit]})).df()
    return frame.rename(columns={"t": "T"}).set_index("customer_id")[SUMMARY].astype(float)


def holdout_purchases(
    con: duckdb.DuckDBPyConnection, config: ModelsConfig, spec: ModelSpec, window: TrainingWindow
) -> pd.Series:
    """The purchase days of each customer in the label window (customer_id -> count)."""
    qualifying_events(con, config, spec, window.label_start, window.label_end)
    out = con.execute(sql("models/clv/holdout")).df()
    return out.set_index("customer_id")["purchases"].astype(float)


def fitted(meta_params: dict) -> tuple[clv.BgNbd, clv.GammaGamma | None]:
    """The stored parameters as the models' records."""
    spend = meta_params.get("gamma_gamma")
    return clv.BgNbd(**meta_params["bgnbd"]), clv.GammaGamma(**spend) if spend else None


def values(
    bgnbd: clv.BgNbd, spend: clv.GammaGamma | None, summary: pd.DataFrame, horizon: float
) -> pd.DataFrame:
    """p_alive, expected_purchases (in ``horizon`` time units), expected_spend and clv per customer."""
    x, t_x, T, m = (summary[c].to_numpy() for c in SUMMARY)
    purchases = clv.expected_purchases(bgnbd, horizon, x, t_x, T)
    per_purchase = clv.expected_spend(spend, x, m) if spend else np.full(len(x), np.nan)
    return pd.DataFrame(
        {
            "p_alive": clv.p_alive(bgnbd, x, t_x, T),
            "expected_purchases": purchases,
            "expected_spend": per_purchase,
            "clv": purchases * per_purchase,
        },
        index=summary.index,
    )


def finite_bgnbd(summary: pd.DataFrame, spec: ModelSpec, end: dt.date, horizon: float) -> clv.BgNbd:
    """BG/NBD fitted on a summary of the ``history_days`` before ``end``; clv.FitError saying why when it
    has no finite fit: no repeat purchase yet, or a fit on the likelihood's boundary or whose expected
    purchases over ``horizon`` (time units) overflow."""
    x, t_x, T = (summary[c].to_numpy() for c in SUMMARY[:3])
    bgnbd = clv.fit_bgnbd(x, t_x, T)
    finite = np.isfinite(clv.expected_purchases(bgnbd, horizon, x, t_x, T)).all()
    if bgnbd.r > BOUNDARY_R or clv.runs_off(bgnbd, x, t_x, T) or not finite:
        # the likelihood's maximum is at its boundary (r and alpha without bound: every customer
        # buys at one rate), where the optimiser stops anywhere (r above 1e4 on one machine, 1.0e3 on
        # another) and the expectations can overflow: too short a history (fits of real data
        # measure r of 0.2-12)
        raise clv.FitError(
            f"BG/NBD has no finite fit on {len(x)} customers ({int(np.sum(x > 0))} with a repeat purchase) "
            f"over {spec.history_days} days before {end} (r = {bgnbd.r:.3g}, alpha = {bgnbd.alpha:.3g}): "
            "not enough purchase history yet"
        )
    return bgnbd


def holdout_metrics(
    calibration: clv.BgNbd | None, summary: pd.DataFrame, actual: np.ndarray, holdout: float
) -> dict[str, float]:
    """The calibration fit's parameters (``calibration_bgnbd_*``) and its expected purchases over the
    ``holdout`` (time units) against the ``actual`` purchase days of the summary's customers; NaN but
    the actual purchases without a calibration fit."""
    if calibration is None:
        params = dict.fromkeys(("r", "alpha", "a", "b"), np.nan)
        return {
            **{f"calibration_bgnbd_{k}": v for k, v in params.items()},
            "holdout_purchases": float(actual.sum()),
            **dict.fromkeys(("holdout_expected_purchases", "holdout_mae", "holdout_correlation"), np.nan),
        }
    x, t_x, T = (summary[c].to_numpy() for c in SUMMARY[:3])
    predicted = clv.expected_purchases(calibration, holdout, x, t_x, T)
    return {
        **{f"calibration_bgnbd_{k}": v for k, v in calibration.as_dict().items()},
        "holdout_purchases": float(actual.sum()),
        "holdout_expected_purchases": float(predicted.sum()),
        "holdout_mae": float(np.mean(np.abs(predicted - actual))),
        "holdout_correlation": float(np.corrcoef(predicted, actual)[0, 1]) if actual.std() > 0 else np.nan,
    }


@register
class Clv(ModelType):
    name = "clv"
    probability = False  # P(alive) is a model probability, not a label's: no baselines, no challenger
    boosted = False

    def check(self, spec: ModelSpec) -> None:
        if spec.item_field:
            raise at("item_field", "item_field is for recommenders only")
        if not spec.label.rules:
            raise at("label.rules", "a clv model counts purchases: give rules (the purchase events)")
        if any(rule.weight != 1 for rule in spec.label.rules):
            raise at("label.rules", "a rule's weight is for recommenders (the weight of a response)")
        if spec.population:
            raise at(
                "population",
                "population (a training segment) is for response and churn models: "
                "a clv model fits every customer with a purchase",
            )

    def prepare(
        self, con: duckdb.DuckDBPyConnection, config: ModelsConfig, spec: ModelSpec, window: TrainingWindow
    ) -> Prepared:
        """The calibration summary (before the cut-off) and its holdout (the label window's purchase
        days), and the summary of the whole history up to the version day, which the stored fit is on."""
        summary = purchase_summary(con, config, spec, window.cutoff)
        holdout = holdout_purchases(con, config, spec, window).reindex(summary.index, fill_value=0.0)
        whole = purchase_summary(con, config, spec, window.label_end)
        return Prepared(window, summary.index.to_numpy(), summary, holdout.to_numpy(), whole_history=whole)

    def fit_own(self, prepared: Prepared, spec: ModelSpec) -> OwnFit:
        """Two BG/NBD fits, as the standard practice: one on the calibration period (the
        ``history_days`` before the cut-off) measured on the holdout (expected against actual purchase
        days in the label window), and the one stored and scored with, on the ``history_days`` up to the
        version day (BG/NBD needs no label); Gamma-Gamma on the customers of the whole history with a
        repeat purchase of positive value. No finite fit of the whole history: not enough data (the
        version FAILS); of the calibration period alone: the version is in use with NaN holdout metrics
        and a warning saying why."""
        window = prepared.window
        whole = prepared.whole_history
        if whole is None or whole.empty:
            raise TrainingError(
                f"model {spec.name!r}: no customer with a qualifying event in the {spec.history_days} days "
                f"before {window.label_end}"
            )
        unit = UNIT_DAYS[spec.time_unit]
        x, t_x, T, m = (whole[c].to_numpy() for c in SUMMARY)
        try:
            bgnbd = finite_bgnbd(whole, spec, window.label_end, spec.label.horizon_days / unit)
        except clv.FitError as e:
            raise NotEnoughData(f"model {spec.name!r}: {e}; the previous version stays in use") from None
        try:
            spend: clv.GammaGamma | None = clv.fit_gamma_gamma(x, m)
        except clv.FitError:
            spend = None  # no values: expected purchases and P(alive) only
        warning = None
        try:
            calibration = finite_bgnbd(prepared.X, spec, window.cutoff, window.label_days / unit)
            holdout = holdout_metrics(calibration, prepared.X, prepared.y, window.label_days / unit)
        except clv.FitError as e:
            holdout = holdout_metrics(None, prepared.X, prepared.y, window.label_days / unit)
            warning = (
                f"no holdout evaluation (its metrics are NaN): the calibration period has no fit: {e}; "
                f"in use with the fit of the purchases up to {window.version} (history_days: "
                f"{spec.history_days})"
            )
        metrics = {
            **{f"bgnbd_{k}": v for k, v in bgnbd.as_dict().items()},
            **({f"gamma_gamma_{k}": v for k, v in spend.as_dict().items()} if spend else {}),
            "log_likelihood": float(np.sum(clv.bgnbd_log_likelihood(bgnbd, x, t_x, T))),
            "repeat_customers": float(np.sum(x > 0)),
            "mean_p_alive": float(np.mean(clv.p_alive(bgnbd, x, t_x, T))),
            **holdout,
        }
        params = {
            "bgnbd": bgnbd.as_dict(),
            "gamma_gamma": spend.as_dict() if spend else None,
            "time_unit": spec.time_unit,
            "fitted_through": window.version.isoformat(),  # the last day of the stored fit's purchases
        }
        return OwnFit(params, metrics, len(whole), int(np.sum(x > 0)), warning)

    def evaluate(
        self,
        prepared: Prepared,
        spec: ModelSpec,
        test: np.ndarray,
        p_test: np.ndarray,
        reference: pd.Series | None,
    ) -> tuple[dict[str, float], pd.DataFrame | None]:
        """Not called: ``fit_own`` measures the holdout."""
        return {}, None

    def score(
        self,
        con: duckdb.DuckDBPyConnection,
        config: ModelsConfig,
        spec: ModelSpec,
        cutoff: dt.date,
        booster: lgb.Booster | None,
        meta: dict,
        cache: dict | None,
        memo: CellScores | None = None,
    ) -> pd.DataFrame:
        """P(alive) as the score, and the clv table's columns, of every customer with a purchase."""
        bgnbd, spend = fitted(meta["params"])
        unit = meta["params"].get("time_unit", spec.time_unit)  # the unit the parameters were fitted in
        summary = purchase_summary(con, config, spec, cutoff, unit)
        out = values(bgnbd, spend, summary, spec.label.horizon_days / UNIT_DAYS[unit])
        return out.assign(score=out["p_alive"], items=None, horizon_days=spec.label.horizon_days).reset_index(
            names="customer_id"
        )

    def explain_frame(
        self,
        con: duckdb.DuckDBPyConnection,
        config: ModelsConfig,
        spec: ModelSpec,
        cutoff: dt.date,
        features: list[str],
        only: str,
    ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        raise LookupError(
            f"model {spec.name!r} is a clv model (BG/NBD, Gamma-Gamma): it has parameters, not SHAP "
            "explanations; see its row in the clv table"
        )
