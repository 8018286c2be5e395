"""Plots for the Dagster UI: matplotlib (Agg, no display) → PNG → a Markdown image for metadata.

Figures are built with matplotlib's object API (``Figure`` on an Agg canvas), never with
``pyplot``: no global state, no GUI backend, safe in any process Dagster runs an asset in.
Attach the result as ``dg.MetadataValue.md(...)``. :class:`Figures` draws a figure only when what
it is drawn from changed (the report's page, the KPI plots).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import pickle
import sys
from collections.abc import Callable, Sequence
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # matplotlib is imported where a figure is drawn: a process that draws none never loads it
    from matplotlib.figure import Figure

SIZE = (6.0, 2.6)  # inches: small enough for the asset page
DPI = 80


def figure(width: float, height: float) -> Figure:
    """A new figure of ``width`` x ``height`` inches at the UI's resolution, laid out to fit its labels."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def markdown_image(fig: Figure) -> str:
    """The figure as a PNG embedded in a Markdown image: ``![](data:image/png;base64,...)``. Its text is
    drawn as given, never as a TeX formula: a label from the data (a channel "Buy $5_off_a_b$") with two
    dollar signs would be one, and one matplotlib cannot parse fails the drawing."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_parse_math(False)
    canvas = FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    with matplotlib.rc_context({"text.parse_math": False}):  # and the tick labels made as it is drawn
        canvas.print_png(buffer)
    return f"![](data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode('ascii')})"


def daily_plot(rows: Sequence[tuple[dt.date, str, float]], title: str, bars: bool = False) -> str:
    """A small plot of daily values, one line (or bar group) per series, as a Markdown image.

    ``rows`` are (day, series, value); a day a series has no row for is drawn as a gap (lines) or
    left out (bars). With no rows at all, the Markdown says so instead of drawing an empty plot.
    """
    if not rows:
        return f"_{title}: no data yet_"
    series: dict[str, dict[dt.date, float]] = {}
    for day, name, value in rows:
        series.setdefault(name, {})[day] = float(value) if value is not None else float("nan")
    from matplotlib.dates import DateFormatter, DayLocator, date2num

    days = sorted({day for day, _, _ in rows})
    fig = figure(*SIZE)
    ax = fig.add_subplot()
    width = 0.8 / len(series)
    for i, (name, values) in enumerate(series.items()):
        ys = [values.get(d, float("nan")) for d in days]
        if bars:
            xs = [
                dt.datetime.combine(d, dt.time()) + dt.timedelta(days=-0.4 + width * (i + 0.5)) for d in days
            ]
            ax.bar(date2num(xs), ys, width=width, label=name)
        else:
            ax.plot(date2num(days), ys, marker="o", markersize=2.5, linewidth=1.2, label=name)
    pad = dt.timedelta(hours=14)  # room for a bar (or a lone point) at either end
    # x is in matplotlib's date numbers (days), which the day locator and formatter below read
    low, high = date2num(
        [dt.datetime.combine(days[0], dt.time()) - pad, dt.datetime.combine(days[-1], dt.time()) + pad]
    )
    ax.set_xlim(float(low), float(high))
    span = (days[-1] - days[0]).days + 1
    ax.xaxis.set_major_locator(DayLocator(interval=-(-span // 8)))  # at most about 8 ticks
    ax.xaxis.set_major_formatter(DateFormatter("%d %b"))
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.set_ylim(bottom=0)
    if len(series) > 1 or not bars:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return markdown_image(fig)


@cache
def _source(module: str) -> bytes:
    """The code a figure was drawn by (a module's source), part of the figure's digest."""
    file = getattr(sys.modules[module], "__file__", None)
    return Path(file).read_bytes() if file else module.encode()


def figure_digest(fn: Callable[..., str], *args: object, **kwargs: object) -> str:
    """What the figure ``fn(*args, **kwargs)`` is drawn from: the drawing function's module source,
    the shared plot helpers, matplotlib's version and the pickled arguments, as a hex digest."""
    digest = hashlib.sha256(_source(fn.__module__) + _source("pipeline.core.plots"))
    digest.update(pickle.dumps((version("matplotlib"), fn.__qualname__, args, sorted(kwargs.items()))))
    return digest.hexdigest()


class Figures:
    """Figures drawn once per distinct input: ``draw(fn, *args)`` is ``fn(*args)``, taken from
    ``before`` (the last figures: the report's last page) when its :func:`figure_digest` is one of
    its keys; ``now`` holds what was shown, by digest."""

    def __init__(self, before: dict[str, str] | None = None) -> None:
        self.before = before or {}
        self.now: dict[str, str] = {}
        self.drawn = 0

    def draw(self, fn: Callable[..., str], *args: object, **kwargs: object) -> str:
        key = figure_digest(fn, *args, **kwargs)
        if key not in self.before:
            self.drawn += 1
        markdown = self.before.get(key) or fn(*args, **kwargs)
        self.now[key] = markdown
        return markdown
