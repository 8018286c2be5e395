"""Customer lifetime value (``type: clv``): BG/NBD and Gamma-Gamma (pipeline/models/clv.py) fitted on
each customer's purchases (the label rules' qualifying events) in the ``history_days`` before the
cut-off, measured on the purchases of the label window after it (the holdout), and scored nightly as
the expected purchases in the next ``label.horizon_days``, P(alive) and the expected value (the
``clv`` table; ``predictions`` holds P(alive) as the score)."""

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
    TrainingWindow,
    build_population,
    qualifying_events,
)
from pipeline.models.predict import CellScores
from pipeline.models.registry import register
from pipeline.models.types.base import ModelType, Prepared

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
        summary = purchase_summary(con, config, spec, window.cutoff)
        holdout = holdout_purchases(con, config, spec, window).reindex(summary.index, fill_value=0.0)
        return Prepared(window, summary.index.to_numpy(), summary, holdout.to_numpy())

    def fit_own(self, prepared: Prepared, spec: ModelSpec) -> tuple[dict, dict[str, float]]:
        """BG/NBD on every customer, Gamma-Gamma on those with a repeat purchase of positive value;
        the holdout: expected against actual purchase days in the label window."""
        X = prepared.X
        x, t_x, T, m = (X[c].to_numpy() for c in SUMMARY)
        try:
            bgnbd = clv.fit_bgnbd(x, t_x, T)
        except clv.FitError as e:  # no repeat purchase yet: a young warehouse, as the boundary below
            raise NotEnoughData(f"model {spec.name!r}: {e}") from None
        try:
            spend: clv.GammaGamma | None = clv.fit_gamma_gamma(x, m)
        except clv.FitError:
            spend = None  # no values: expected purchases and P(alive) only
        unit = UNIT_DAYS[spec.time_unit]
        holdout = prepared.window.label_days / unit
        predicted = clv.expected_purchases(bgnbd, holdout, x, t_x, T)
        scored = clv.expected_purchases(bgnbd, spec.label.horizon_days / unit, x, t_x, T)
        finite = np.isfinite(predicted).all() and np.isfinite(scored).all()
        if bgnbd.r > BOUNDARY_R or clv.runs_off(bgnbd, x, t_x, T) or not finite:
            # the likelihood's maximum is at its boundary (r and alpha without bound: every customer
            # buys at one rate), where the optimiser stops anywhere (r above 1e4 on one machine, 1.0e3 on
            # another) and the expectations can overflow: too short a history (fits of real data
            # measure r of 0.2-12)
            raise NotEnoughData(
                f"model {spec.name!r}: BG/NBD has no finite fit on {len(x)} customers "
                f"({int(np.sum(x > 0))} with a repeat purchase) over {spec.history_days} days before "
                f"{prepared.window.cutoff} (r = {bgnbd.r:.3g}, alpha = {bgnbd.alpha:.3g}): "
                "not enough purchase history yet; the previous version stays in use"
            )
        actual = prepared.y
        metrics = {
            **{f"bgnbd_{k}": v for k, v in bgnbd.as_dict().items()},
            **({f"gamma_gamma_{k}": v for k, v in spend.as_dict().items()} if spend else {}),
            "log_likelihood": float(np.sum(clv.bgnbd_log_likelihood(bgnbd, x, t_x, T))),
            "repeat_customers": float(np.sum(x > 0)),
            "holdout_purchases": float(actual.sum()),
            "holdout_expected_purchases": float(predicted.sum()),
            "holdout_mae": float(np.mean(np.abs(predicted - actual))),
            "holdout_correlation": float(np.corrcoef(predicted, actual)[0, 1])
            if actual.std() > 0
            else np.nan,
            "mean_p_alive": float(np.mean(clv.p_alive(bgnbd, x, t_x, T))),
        }
        params = {
            "bgnbd": bgnbd.as_dict(),
            "gamma_gamma": spend.as_dict() if spend else None,
            "time_unit": spec.time_unit,
        }
        return params, metrics

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
