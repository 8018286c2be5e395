"""Plots of a training run for the Dagster UI (matplotlib object API → PNG → Markdown image)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipeline.core.plots import figure, markdown_image

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _figure(height: float = 3.0) -> tuple[Figure, Axes]:
    fig = figure(6.0, height)
    return fig, fig.add_subplot()


def impact_bars(impact: pd.DataFrame, top: int = 15, title: str = "feature impact (mean |SHAP|)") -> str:
    shown = impact.head(top).iloc[::-1]
    fig, ax = _figure(0.6 + 0.22 * len(shown))
    ax.barh(shown["feature"], shown["mean_abs_shap"], color="#4477aa")
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=7)
    return markdown_image(fig)


def beeswarm_plot(swarm: pd.DataFrame, order: list[str], seed: int = 0) -> str:
    """One row per feature (most important on top): SHAP on x, jittered, coloured by the feature's
    value rank."""
    fig, ax = _figure(0.6 + 0.3 * len(order))
    rng = np.random.default_rng(seed)
    for i, feature in enumerate(reversed(order)):
        rows = swarm[swarm["feature"] == feature]
        values = rows["value"].to_numpy(dtype=float)
        colour = pd.Series(values).rank(pct=True).fillna(0.5).to_numpy()
        ax.scatter(
            rows["shap"], i + rng.uniform(-0.3, 0.3, len(rows)), c=colour, cmap="coolwarm", s=6, alpha=0.7
        )
    ax.set_yticks(range(len(order)), list(reversed(order)), fontsize=7)
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("SHAP value (log-odds); colour: feature value low → high", fontsize=8)
    ax.set_title("beeswarm", fontsize=10)
    return markdown_image(fig)


def dependence_plot(dep: pd.DataFrame) -> str:
    feature, secondary = dep["feature"].iloc[0], dep["secondary_feature"].iloc[0]
    fig, ax = _figure()
    if secondary:  # coloured by the secondary feature's rank; else one colour, with no colour map
        colour = dep["secondary_value"].rank(pct=True).fillna(0.5)
        ax.scatter(dep["value"], dep["shap"], c=colour, cmap="coolwarm", s=8, alpha=0.7)
    else:
        ax.scatter(dep["value"], dep["shap"], c="#4477aa", s=8, alpha=0.7)
    ax.set_xlabel(feature, fontsize=8)
    ax.set_ylabel("SHAP", fontsize=8)
    ax.set_title(f"dependence of {feature}" + (f" (colour: {secondary})" if secondary else ""), fontsize=10)
    return markdown_image(fig)


def calibration_plot(table: pd.DataFrame) -> str:
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle="--")
    ax.plot(table["predicted"], table["observed"], marker="o")
    ax.set_xlabel("mean predicted probability", fontsize=8)
    ax.set_ylabel("observed rate", fontsize=8)
    ax.set_title("calibration (test split)", fontsize=10)
    return markdown_image(fig)
