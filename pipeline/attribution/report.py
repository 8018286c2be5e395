"""The attribution summary for the UI: a Markdown table and a stacked bar plot of value per channel
per model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.core.metadata import markdown_table
from pipeline.core.plots import figure, markdown_image


def summary_table(rows: Sequence[tuple[str, str, float, float]]) -> str:
    """rows: (model, channel, conversions, value) -> Markdown, figures rounded to 2 decimals."""
    return markdown_table(
        ["model", "channel", "conversions", "value"], [(m, c, f"{n:.2f}", f"{v:.2f}") for m, c, n, v in rows]
    )


def intervals_table(rows: Sequence[tuple[str, str, str, float, float, float, float, float, float]]) -> str:
    """rows: (model, conversion, channel, conversions, lower, upper, value, lower, upper) -> Markdown,
    each figure with its interval, rounded to 2 decimals."""
    return markdown_table(
        ["model", "conversion", "channel", "conversions [interval]", "value [interval]"],
        [
            (m, s, c, f"{n:.2f} [{nl:.2f}, {nu:.2f}]", f"{v:.2f} [{vl:.2f}, {vu:.2f}]")
            for m, s, c, n, nl, nu, v, vl, vu in rows
        ],
    )


def stacked_bars(rows: Sequence[tuple[str, str, float, float]], title: str) -> str:
    """One horizontal bar per model, stacked by channel (value credited), as a Markdown image."""
    if not rows:
        return f"_{title}: no conversions_"
    models = list(dict.fromkeys(r[0] for r in rows))
    channels = sorted({r[1] for r in rows})
    values = np.zeros((len(models), len(channels)))
    for m, c, _, v in rows:
        values[models.index(m), channels.index(c)] += v
    fig = figure(7.0, 0.35 * len(models) + 1.4)
    ax = fig.add_subplot()
    left = np.zeros(len(models))
    for j, c in enumerate(channels):
        ax.barh(models, values[:, j], left=left, label=c)
        left += values[:, j]
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("value credited", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return markdown_image(fig)
