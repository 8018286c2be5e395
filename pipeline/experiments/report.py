"""The experiment report: per experiment and variant, over all presentation dates and
cumulatively date by date, the rates, values and lifts against control (pipeline/stats.py).

Only presentations whose window is complete count, unless ``include_incomplete`` (then the
``windows`` column says so and ``in_progress`` counts them). The statistics run over aggregated
counts (one row per experiment, variant and date), never over customer rows.
"""

from __future__ import annotations

import math

import duckdb
import pandas as pd
from matplotlib.figure import Figure

from pipeline.core.plots import DPI, markdown_image
from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import table_exists, transaction
from pipeline.experiments import stats
from pipeline.experiments.config import ExperimentsConfig

EXPERIMENT_REPORT = "experiment_report"
COMPLETE, INCLUDING = "complete windows only", "including in-progress windows"


def _nan(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _rows(frame: pd.DataFrame, config: ExperimentsConfig, scope: str, windows: str) -> list[dict]:
    """Report rows of one scope: ``frame`` has one row per (experiment, variant, to_date) with totals."""
    out = []
    for (exp, to_date), part in frame.groupby(["experiment", "to_date"], sort=True):
        ctrl = part[part.is_control]
        c = ctrl.iloc[0] if len(ctrl) else None
        share = config.experiment(exp).control_share if any(e.name == exp for e in config.experiments) else 0
        s = stats.srm(
            int(c.presented) if c is not None else 0, int(part[~part.is_control].presented.sum()), share
        )
        for r in part.itertuples(index=False):  # one per variant: a handful per date, not customers
            n, x = int(r.presented), int(r.converted)
            mean = r.value_sum / n
            var = (r.value_sq - n * mean * mean) / (n - 1) if n > 1 else float("nan")
            row = dict(
                experiment=exp,
                variant=r.variant,
                is_control=bool(r.is_control),
                scope=scope,
                from_date=r.from_date,
                to_date=to_date,
                presented=n,
                converted=x,
                conversion_rate=x / n,
                value_per_presented=mean,
                in_progress=int(r.in_progress),
                windows=windows,
                srm_chi2=_nan(s.chi2),
                srm_p_value=_nan(s.p_value),
                srm_mismatch=s.mismatch,
            )
            if c is not None and not r.is_control:
                cn = int(c.presented)
                cmean = c.value_sum / cn
                cvar = (c.value_sq - cn * cmean * cmean) / (cn - 1) if cn > 1 else float("nan")
                lift = stats.two_proportions(x, n, int(c.converted), cn)
                rel = stats.relative(lift, c.converted / cn)
                val = stats.welch(mean, max(var, 0.0), n, cmean, max(cvar, 0.0), cn)
                row.update(
                    abs_lift=lift.lift,
                    abs_lift_low=lift.low,
                    abs_lift_high=lift.high,
                    rel_lift=rel.lift,
                    rel_lift_low=rel.low,
                    rel_lift_high=rel.high,
                    p_value=lift.p_value,
                    significant=bool(lift.p_value < 0.05),
                    value_lift=val.lift,
                    value_lift_low=val.low,
                    value_lift_high=val.high,
                    value_p_value=val.p_value,
                )
            out.append({k: _nan(v) if isinstance(v, float) else v for k, v in row.items()})
    return out


def build_report(
    con: duckdb.DuckDBPyConnection, config: ExperimentsConfig, include_incomplete: bool = False
) -> int:
    """Rebuild `experiment_report` whole from `conversions`; returns its rows."""
    con.execute(sql("experiments/create_experiment_report"))
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
    frame = pd.DataFrame(
        rows, columns=[c[0] for c in con.execute(f"SELECT * FROM {EXPERIMENT_REPORT} LIMIT 0").description]
    )
    with transaction(con):
        con.execute(f"DELETE FROM {EXPERIMENT_REPORT}")
        if len(frame):
            con.register("_report_rows", frame)
            con.execute(f"INSERT INTO {EXPERIMENT_REPORT} SELECT * FROM _report_rows")
            con.unregister("_report_rows")
    return len(frame)


def lift_plot(con: duckdb.DuckDBPyConnection) -> str:
    """Cumulative relative lift (with its 95% interval) per variant and experiment, as a Markdown image."""
    df = con.execute(f"""SELECT experiment, variant, to_date, rel_lift, rel_lift_low, rel_lift_high
                         FROM {EXPERIMENT_REPORT} WHERE scope = 'cumulative' AND NOT is_control
                         ORDER BY experiment, variant, to_date""").df()
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
    cur = con.execute(f"""SELECT experiment, variant, presented, converted, round(conversion_rate, 4),
                                 round(value_per_presented, 2), round(abs_lift, 4),
                                 '[' || round(abs_lift_low, 4) || ', ' || round(abs_lift_high, 4) || ']',
                                 round(rel_lift, 3), round(p_value, 4), round(value_lift, 2), round(value_p_value, 4),
                                 round(srm_p_value, 4), srm_mismatch, windows
                          FROM {EXPERIMENT_REPORT} WHERE scope = 'total' ORDER BY experiment, is_control DESC, variant""")
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
