"""The experiment report's plots for the asset page (Markdown images, pipeline/core/plots.py).

* **forest plot**: per experiment, one row per variant and metric, its relative lift against control
  (%) with the 1 - alpha interval as a bar, a line at zero, and the values written beside each row;
* **lift over time**: the cumulative relative lift of the primary metric date by date, only for an
  experiment with several presentation dates (with one, the forest plot says it all).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from pipeline.core.plots import figure, figure_digest, markdown_image
from pipeline.core.sql import sql

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _label(lift: float, low: float, high: float) -> str:
    if any(math.isnan(v) for v in (lift, low, high)):
        return "undefined"
    return f"{100 * lift:+.1f}% [{100 * low:+.1f}, {100 * high:+.1f}]"


def forest_plot(con: duckdb.DuckDBPyConnection) -> str:
    """The relative lift of every treated variant and metric with its interval, as a Markdown image:
    drawn only when its rows (or the drawing code) changed since the last report, else the last one
    kept (``built_experiment_plots``; a finished experiment's report does not change from night to night)."""
    con.execute(sql("experiments/create_built_plots"))
    df = con.execute(sql("experiments/forest_rows")).df()
    if not len(df):
        return "_forest plot: no complete conversion windows yet_"
    rows = {c: df[c].tolist() for c in df.columns}  # plain values: their pickle (the digest) is stable
    digest = figure_digest(forest_markdown, rows)
    kept = con.execute(sql("experiments/built_plot"), {"plot": "forest_plot", "digest": digest}).fetchall()
    if kept:
        return str(kept[0][0])
    markdown = forest_markdown(rows)
    con.execute(sql("experiments/keep_plot"), {"plot": "forest_plot", "digest": digest, "markdown": markdown})
    return markdown


def forest_markdown(rows: dict[str, list]) -> str:
    """The forest plot of the rows (column -> values, as forest_figure reads them), as a Markdown image."""
    return markdown_image(forest_figure(pd.DataFrame(rows)))


def forest_figure(df: pd.DataFrame) -> Figure:
    """The forest plot of rows (experiment, metric, variant, rel_lift, rel_lift_low, rel_lift_high,
    and optionally the cuped_ ones, drawn just below each row)."""
    experiments = list(dict.fromkeys(df.experiment))
    heights = [0.9 + 0.35 * int((df.experiment == e).sum()) for e in experiments]
    fig = figure(6.4, sum(heights))
    axes = fig.subplots(len(experiments), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, exp in zip(axes, experiments, strict=True):
        part = df[df.experiment == exp].reset_index(drop=True)
        lift, low, high = (
            part[c].astype(float).to_numpy() for c in ("rel_lift", "rel_lift_low", "rel_lift_high")
        )
        y = range(len(part))[::-1]  # the first row on top
        names = [
            v if m == "primary" else f"{v} · {m}" for v, m in zip(part.variant, part.metric, strict=True)
        ]
        ax.errorbar(
            100 * lift,
            list(y),
            xerr=[100 * (lift - low), 100 * (high - lift)],
            fmt="o",
            capsize=3,
            color="C0",
            label="as measured",
        )
        if "cuped_rel_lift" in part:
            c_lift, c_low, c_high = (
                part["cuped_" + c].astype(float).to_numpy()
                for c in ("rel_lift", "rel_lift_low", "rel_lift_high")
            )
            ax.errorbar(
                100 * c_lift,
                [yi - 0.25 for yi in y],
                xerr=[100 * (c_lift - c_low), 100 * (c_high - c_lift)],
                fmt=".",
                capsize=2,
                color="C1",
                linewidth=0.9,
                label="CUPED",
            )
            ax.legend(fontsize=6, frameon=False, loc="lower right")
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.set_yticks(list(y), names, fontsize=7)
        ax.set_ylim(-0.6, len(part) - 0.4)
        for yi, label in zip(y, (_label(*v) for v in zip(lift, low, high, strict=True)), strict=True):
            ax.annotate(label, (1.01, yi), xycoords=("axes fraction", "data"), va="center", fontsize=7)
        ax.set_title(f"{exp}: lift vs control (%, 95% interval)", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    return fig


def lift_plot(con: duckdb.DuckDBPyConnection) -> str:
    """Cumulative relative lift (with its interval) per variant of the experiments with several
    presentation dates, as a Markdown image."""
    fig = lift_figure(con.execute(sql("experiments/lift_series")).df())
    if fig is None:
        return (
            "_cumulative lift: shown once an experiment has several presentation dates (see the forest plot)_"
        )
    return markdown_image(fig)


def lift_figure(df: pd.DataFrame) -> Figure | None:
    """The cumulative lift plot of rows (experiment, variant, to_date, rel_lift, rel_lift_low,
    rel_lift_high) of the experiments with several dates; None when none has."""
    dated = df.groupby("experiment").to_date.transform("nunique") if len(df) else pd.Series(dtype=int)
    df = df[dated > 1] if len(df) else df
    if not len(df):
        return None
    from matplotlib.dates import DateFormatter, date2num

    experiments = list(dict.fromkeys(df.experiment))
    fig = figure(6.0, 2.4 * len(experiments))
    for i, exp in enumerate(experiments):
        ax = fig.add_subplot(len(experiments), 1, i + 1)
        part = df[df.experiment == exp]
        for variant, v in part.groupby("variant", sort=True):
            days = date2num(pd.to_datetime(v.to_date).dt.to_pydatetime())
            line = ax.plot(days, 100 * v.rel_lift, marker="o", markersize=2.5, label=variant)[0]
            ax.fill_between(
                days,
                100 * v.rel_lift_low.astype(float),
                100 * v.rel_lift_high.astype(float),
                color=line.get_color(),
                alpha=0.15,
            )
        ax.xaxis.set_major_formatter(DateFormatter("%m-%d"))
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_title(f"{exp}: cumulative lift vs control (%, 95% interval)", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, frameon=False)
    return fig
