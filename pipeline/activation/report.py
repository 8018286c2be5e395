"""The HTML report of the night: one static, self-contained page read from the published snapshot.

Sections: experiment lifts (a forest plot and the table), model metrics with each model's feature
impact (mean |SHAP|), the attribution chart, KPI trends, and data quality (loads and rejects).
Plots are PNGs drawn with matplotlib's object API and embedded as data URLs, so the file opens
anywhere (a browser, a mail attachment, `nightjar serve`'s /reports) without other files. It is
written next to its target under a hidden name of its own and renamed into place: a reader gets the
old page or the new one, and two writers of one folder at once never take each other's.
A figure whose data and drawing code are those of a figure of the last page written there is taken
from that page (``.figures.json`` beside it) instead of drawn again: most nights the models' impact
bars and the experiment lifts have not changed.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline.activation.publish import Snapshot, current_snapshot
from pipeline.activation.staging import STALE_STAGED_SECONDS, staged_name
from pipeline.attribution.report import stacked_bars
from pipeline.core.metadata import columns_of
from pipeline.core.plots import Figures, daily_plot, figure, markdown_image
from pipeline.core.sql import sql
from pipeline.models.plots import impact_bars

REPORT = "report"  # the asset
INDEX = "index.html"
FIGURES = ".figures.json"  # the last page's figures by the digest of what each was drawn from
_IMAGE = re.compile(r"!\[\]\((data:image/png;base64,[A-Za-z0-9+/=]+)\)")

STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 18px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; } .plots img { border: 1px solid #eee; }
.note { color: #666; font-size: 13px; }
"""


class ReportError(RuntimeError):
    """There is no snapshot to report on."""


def image(markdown: str, alt: str) -> str:
    """An <img> from a plot helper's Markdown image; its own text when it drew nothing."""
    found = _IMAGE.search(markdown)
    if not found:
        return f'<p class="note">{html.escape(markdown.strip("_"))}</p>'
    return f'<img alt="{html.escape(alt)}" src="{found.group(1)}">'


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An HTML table; floats with 4 significant digits, every cell escaped."""

    def cell(v: object) -> str:
        text = "" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)
        return f"<td>{html.escape(text)}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(map(cell, row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def forest_plot(lifts: pd.DataFrame) -> str:
    """Each variant's absolute lift (conversion rate vs control), 95% interval, as a Markdown image."""
    if lifts.empty:
        return "_experiment lifts: no complete conversion window yet_"
    labels = (lifts["experiment"] + " / " + lifts["variant"]).tolist()
    y = np.arange(len(labels))[::-1]
    fig = figure(7.0, 0.4 * len(labels) + 1.2)
    ax = fig.add_subplot()
    low = (lifts["abs_lift"] - lifts["abs_lift_low"]).to_numpy(dtype=float)
    high = (lifts["abs_lift_high"] - lifts["abs_lift"]).to_numpy(dtype=float)
    ax.errorbar(lifts["abs_lift"], y, xerr=[low, high], fmt="o", color="#4477aa", capsize=3)
    ax.axvline(0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("lift in conversion rate vs control (95% interval)", fontsize=8)
    ax.set_title("experiment lifts", fontsize=10)
    ax.tick_params(labelsize=7)
    return markdown_image(fig)


def _frame(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> pd.DataFrame:
    return con.execute(sql(f"activation/report/{name}"), params or {}).df()


def _experiments(con: duckdb.DuckDBPyConnection, figures: Figures) -> str:
    have = {name for name, _ in columns_of(con, "experiment_report")}
    # a snapshot published before the report had these columns shows them empty
    fragments = {f"{c}_column": c if c in have else "NULL" for c in ("capped", "comparison")}
    lifts = con.execute(sql("activation/report/lifts", fragments=fragments)).df()
    rows = lifts.astype(object).where(lifts.notna(), None).to_numpy().tolist()
    return image(figures.draw(forest_plot, lifts), "experiment lifts") + table(list(lifts.columns), rows)


def _models(con: duckdb.DuckDBPyConnection, has_impact: bool, figures: Figures) -> str:
    metrics = _frame(con, "model_metrics")
    rows = metrics.astype(object).where(metrics.notna(), None).to_numpy().tolist()
    plots = [
        image(
            figures.draw(impact_bars, impact, 10, f"{model}: feature impact (mean |SHAP|)"),
            alt=f"{model} impact",
        )
        for model in (metrics["model"] if has_impact else [])
        if not (impact := _frame(con, "feature_impact", {"model": model})).empty
    ]
    return table(list(metrics.columns), rows) + f'<div class="plots">{"".join(plots)}</div>'


def _attribution(con: duckdb.DuckDBPyConnection, figures: Figures) -> str:
    rows = con.execute(sql("activation/report/attribution")).fetchall()
    return image(figures.draw(stacked_bars, rows, "value credited per channel and model"), "attribution")


def _kpis(con: duckdb.DuckDBPyConnection, tables: dict, figures: Figures) -> str:
    plots = []
    if "kpi_purchases" in tables:
        rows = con.execute(sql("activation/report/revenue")).fetchall()
        plots.append(image(figures.draw(daily_plot, rows, "daily revenue by context"), "revenue"))
    if "kpi_customers" in tables:
        rows = con.execute(sql("activation/report/customers")).fetchall()
        plots.append(image(figures.draw(daily_plot, rows, "customers in total"), "customers"))
    return f'<div class="plots">{"".join(plots)}</div>'


def _quality(con: duckdb.DuckDBPyConnection, tables: dict) -> str:
    parts = []
    if "loads" in tables:
        loads = con.execute(sql("activation/report/loads"))
        parts.append(table([d[0] for d in loads.description], loads.fetchall()))
    if "rejects" in tables:
        rejects = con.execute(sql("activation/report/rejects"))
        parts.append(table([d[0] for d in rejects.description], rejects.fetchall()))
    return "".join(parts)


def render(snapshot: Snapshot, figures: Figures | None = None) -> str:
    """The report of ``snapshot`` as one HTML page (its figures drawn through ``figures``)."""
    figures = figures or Figures()
    tables = snapshot.tables
    sections: list[tuple[str, str]] = []
    with duckdb.connect(str(snapshot.database), read_only=True) as con:
        if "experiment_report" in tables:
            sections.append(("Experiments: lift against control", _experiments(con, figures)))
        if "model_trainings" in tables:
            sections.append(("Models", _models(con, "model_feature_impact" in tables, figures)))
        if "attribution_summary" in tables:
            sections.append(("Attribution", _attribution(con, figures)))
        sections.append(("KPI trends", _kpis(con, tables, figures)))
        sections.append(("Data quality: loads and rejects", _quality(con, tables)))
    body = "".join(f"<h2>{html.escape(title)}</h2>{content}" for title, content in sections)
    title = f"Nightjar: the night of {snapshot.published_at[:10]}"
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f'<p class="note">snapshot {html.escape(snapshot.version)}, published {snapshot.published_at}</p>'
        f"{body}</body></html>\n"
    )


def write_report(published: Path, out: Path) -> Path:
    """Write the report of the current snapshot in ``published`` to ``out/index.html`` (atomically)."""
    snapshot = current_snapshot(published)
    if snapshot is None:
        raise ReportError(f"nothing is published in {published} yet: run the pipeline first")
    out.mkdir(parents=True, exist_ok=True)
    target = out / INDEX
    figures = Figures(_last_figures(out))
    _replace(out / INDEX, render(snapshot, figures))
    _replace(out / FIGURES, json.dumps(figures.now))
    remove_stale_staged(out)
    return target


def remove_stale_staged(out: Path, now: float | None = None) -> list[str]:
    """Remove the files a writer killed between its write and its rename left staged in ``out``
    (``.index.html.partial-*``, ``.figures.json.partial-*``, older than :data:`STALE_STAGED_SECONDS`: a
    writer at work now stages for seconds); returns their names."""
    limit = (time.time() if now is None else now) - STALE_STAGED_SECONDS
    removed = []
    for p in [*out.glob(f".{INDEX}.partial-*"), *out.glob(f".{FIGURES}.partial-*")]:
        with contextlib.suppress(OSError):  # gone already: another writer removed it
            if p.stat().st_mtime < limit:
                p.unlink()
                removed.append(p.name)
    return sorted(removed)


def _replace(target: Path, text: str) -> None:
    """Write ``text`` beside ``target`` under a hidden name of its own, then rename it into place: a
    writer of the same folder at the same time (the asset and `nightjar report`) never moves or
    truncates this one's file."""
    staged = target.with_name(staged_name(target.name))
    try:
        staged.write_text(text, encoding="utf-8")
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)


def _last_figures(out: Path) -> dict[str, str]:
    """The figures of the last page written to ``out`` by digest (none when unreadable)."""
    try:
        found = json.loads((out / FIGURES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}
