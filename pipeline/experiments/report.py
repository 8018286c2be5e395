"""The experiment report: per experiment and variant, over all presentation dates and
cumulatively date by date, the rates, values and lifts against control (pipeline/experiments/stats.py).

Only presentations whose window is complete count, unless ``include_incomplete`` (then the
``windows`` column says so and ``in_progress`` counts them). The statistics run over aggregated
counts (one row per experiment, variant and date), never over customer rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd
from matplotlib.figure import Figure

from pipeline.core.plots import DPI, markdown_image
from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import table_exists, transaction
from pipeline.experiments import stats
from pipeline.experiments.config import AnalysisSpec, ExperimentsConfig
from pipeline.experiments.corrections import adjust

EXPERIMENT_REPORT = "experiment_report"
COMPLETE, INCLUDING = "complete windows only", "including in-progress windows"


def _nan(v: float | None) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


@dataclass(frozen=True)
class Counts:
    """One variant's presentations over a span of dates: the counts and value moments."""

    variant: str
    is_control: bool
    from_date: dt.date
    presented: int
    converted: int
    value_sum: float
    value_sq: float
    in_progress: int

    @classmethod
    def of(cls, row: Mapping[Hashable, Any]) -> Counts:
        """From one row of a frame of totals (numpy scalars become Python numbers, exactly)."""
        return cls(
            variant=str(row["variant"]),
            is_control=bool(row["is_control"]),
            from_date=row["from_date"],
            presented=int(row["presented"]),
            converted=int(row["converted"]),
            value_sum=float(row["value_sum"]),
            value_sq=float(row["value_sq"]),
            in_progress=int(row["in_progress"]),
        )

    @property
    def mean(self) -> float:
        """Value per presented customer."""
        return self.value_sum / self.presented

    @property
    def variance(self) -> float:
        """The sample variance (ddof 1) of the value per presented customer (NaN below 2)."""
        n, mean = self.presented, self.mean
        return (self.value_sq - n * mean * mean) / (n - 1) if n > 1 else float("nan")


def _lifts(r: Counts, c: Counts, spec: AnalysisSpec) -> dict[str, object]:
    """The lifts of a treated variant against control: rate (absolute, relative; fixed-horizon and
    sequential) and value."""
    b, a = stats.proportion(r.converted, r.presented), stats.proportion(c.converted, c.presented)
    alpha, tuning = spec.alpha, spec.sequential_tuning
    ab, rel = stats.lift(b, a, alpha=alpha), stats.lift(b, a, relative=True, alpha=alpha)
    seq = stats.sequential(b, a, alpha=alpha, tuning=tuning)
    seq_rel = stats.sequential(b, a, relative=True, alpha=alpha, tuning=tuning)
    val = stats.lift(
        stats.moments(r.presented, r.value_sum, r.value_sq),
        stats.moments(c.presented, c.value_sum, c.value_sq),
        alpha=alpha,
    )
    return dict(
        abs_lift=ab.lift,
        abs_lift_low=ab.low,
        abs_lift_high=ab.high,
        rel_lift=rel.lift,
        rel_lift_low=rel.low,
        rel_lift_high=rel.high,
        p_value=ab.p_value,
        significant=bool(ab.p_value < alpha),
        value_lift=val.lift,
        value_lift_low=val.low,
        value_lift_high=val.high,
        value_p_value=val.p_value,
        rel_p_value=rel.p_value,
        seq_abs_lift_low=seq.low,
        seq_abs_lift_high=seq.high,
        seq_p_value=seq.p_value,
        seq_rel_lift_low=seq_rel.low,
        seq_rel_lift_high=seq_rel.high,
        seq_rel_p_value=seq_rel.p_value,
    )


def _correct(rows: list[dict[str, object]], spec: AnalysisSpec) -> None:
    """``p_value_adjusted`` and ``significant_adjusted`` of one experiment's treated variants at one
    date, corrected together (``analysis.correction``)."""
    treated = [r for r in rows if "p_value" in r]
    adjusted = adjust([float(r["p_value"]) for r in treated], spec.correction)  # type: ignore[arg-type]
    for r, p in zip(treated, adjusted, strict=True):
        r.update(p_value_adjusted=p, significant_adjusted=bool(p < spec.alpha))


def _rows(frame: pd.DataFrame, config: ExperimentsConfig, scope: str, windows: str) -> list[dict]:
    """Report rows of one scope: ``frame`` has one row per (experiment, variant, to_date) with totals."""
    out = []
    for (exp, to_date), part in frame.groupby(["experiment", "to_date"], sort=True):
        name = str(exp)
        # one per variant: a handful per date, not customers
        variants = [Counts.of(r) for r in part.to_dict("records")]
        c = next((r for r in variants if r.is_control), None)
        share = (
            config.experiment(name).control_share if any(e.name == name for e in config.experiments) else 0
        )
        s = stats.srm(
            c.presented if c is not None else 0, sum(r.presented for r in variants if not r.is_control), share
        )
        rows: list[dict[str, object]] = []
        for r in variants:
            row: dict[str, object] = dict(
                experiment=name,
                variant=r.variant,
                is_control=r.is_control,
                scope=scope,
                from_date=r.from_date,
                to_date=to_date,
                presented=r.presented,
                converted=r.converted,
                conversion_rate=r.converted / r.presented,
                value_per_presented=r.mean,
                in_progress=r.in_progress,
                windows=windows,
                srm_chi2=_nan(s.chi2),
                srm_p_value=_nan(s.p_value),
                srm_mismatch=s.mismatch,
            )
            if c is not None and not r.is_control:
                row.update(_lifts(r, c, config.analysis))
            rows.append(row)
        _correct(rows, config.analysis)
        out += [{k: _nan(v) if isinstance(v, float) else v for k, v in row.items()} for row in rows]
    return out


def build_report(
    con: duckdb.DuckDBPyConnection, config: ExperimentsConfig, include_incomplete: bool = False
) -> int:
    """Rebuild `experiment_report` whole from `conversions`; returns its rows."""
    windows = INCLUDING if include_incomplete else COMPLETE
    rows: list[dict] = []
    if table_exists(con, "conversions"):
        text = sql("experiments/report_counts")
        daily = con.execute(text, bind(text, {"include_incomplete": include_incomplete})).df()
        if len(daily):
            keys = ["experiment", "variant", "is_control"]
            daily = daily.sort_values([*keys, "date"])
            cum = daily.copy()
            for col in ("presented", "converted", "value_sum", "value_sq", "in_progress"):
                cum[col] = daily.groupby(keys)[col].cumsum()
            first = daily.groupby("experiment")["date"].transform("min")
            cum["from_date"], cum["to_date"] = first, daily["date"]
            grid = cum.set_index([*keys, "to_date"])
            total = daily.groupby(keys, as_index=False).agg(
                presented=("presented", "sum"),
                converted=("converted", "sum"),
                value_sum=("value_sum", "sum"),
                value_sq=("value_sq", "sum"),
                in_progress=("in_progress", "sum"),
                from_date=("date", "min"),
                to_date=("date", "max"),
            )
            last = total.groupby("experiment")["to_date"].transform("max")
            total["to_date"] = last
            total["from_date"] = total.groupby("experiment")["from_date"].transform("min")
            rows = _rows(total, config, "total", windows) + _rows(
                grid.reset_index(), config, "cumulative", windows
            )
    with transaction(con):
        con.execute(sql("experiments/clear_report"))
        con.execute(sql("experiments/create_experiment_report"))
        columns = [c[0] for c in con.execute(sql("experiments/report_columns")).description]
        frame = pd.DataFrame(rows, columns=columns)
        if len(frame):
            con.register("_report_rows", frame)
            con.execute(sql("experiments/insert_report"))
            con.unregister("_report_rows")
    return len(frame)


def lift_plot(con: duckdb.DuckDBPyConnection) -> str:
    """Cumulative relative lift (with its 95% interval) per variant and experiment, as a Markdown image."""
    df = con.execute(sql("experiments/lift_series")).df()
    if not len(df):
        return "_cumulative lift: no complete conversion windows yet_"
    experiments = list(dict.fromkeys(df.experiment))
    fig = Figure(figsize=(6.0, 2.4 * len(experiments)), dpi=DPI, layout="constrained")
    for i, exp in enumerate(experiments):
        ax = fig.add_subplot(len(experiments), 1, i + 1)
        part = df[df.experiment == exp]
        for variant, v in part.groupby("variant", sort=True):
            line = ax.plot(v.to_date, 100 * v.rel_lift, marker="o", markersize=2.5, label=variant)[0]
            ax.fill_between(
                v.to_date,
                100 * v.rel_lift_low.astype(float),
                100 * v.rel_lift_high.astype(float),
                color=line.get_color(),
                alpha=0.15,
            )
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_title(f"{exp}: cumulative lift vs control (%, 95% interval)", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, frameon=False)
    return markdown_image(fig)


def report_table(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[tuple]]:
    """The report totals as (headers, rows) for a Markdown table."""
    cur = con.execute(sql("experiments/report_table"))
    headers = [
        "experiment",
        "variant",
        "presented",
        "converted",
        "rate",
        "value/presented",
        "abs lift",
        "95% interval",
        "rel lift",
        "p",
        "value lift",
        "value p",
        "SRM p",
        "SRM",
        "windows",
    ]
    return headers, cur.fetchall()
