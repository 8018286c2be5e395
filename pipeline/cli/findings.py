"""The demo's closing findings: what the night found, next to the truth the demo world knows, read
from the published snapshot (sql/activation/findings/)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.activation.publish import current_snapshot
from pipeline.core.metadata import columns_of
from pipeline.core.sql import sql

ATTRIBUTION_MODEL = "Markov"  # the data-driven model whose top channels are shown (else the first)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:+.{digits}f}"


def lift_lines(con: duckdb.DuckDBPyConnection, truth: Path) -> list[str]:
    """Each variant's lift line: ``  offer_uplift/discount_10 vs matched control: +0.012 [-0.004, +0.028]
    | true +0.010`` (the control it is compared with left out for a snapshot published before the
    report had ``comparison``)."""
    have = {name for name, _ in columns_of(con, "experiment_report")}
    fragments = {"comparison_column": "comparison" if "comparison" in have else "NULL"}
    rows = con.execute(sql("activation/findings/lifts", fragments=fragments), {"truth": str(truth)})
    return [
        f"  {e}/{v}{f' vs {against}' if against else ''}: {_fmt(lift)} [{_fmt(low)}, {_fmt(high)}]"
        f" | true {_fmt(true)}"
        for e, v, lift, low, high, against, true in rows.fetchall()
    ]


def findings(published: Path, truth: Path) -> str:
    """A few lines: each variant's lift and interval next to the true lift, each binary model's AUC
    next to how its scores rank like the true propensities, the top channels."""
    snapshot = current_snapshot(published)
    if snapshot is None:
        return "Nothing was published: no findings."
    lines = []
    with duckdb.connect(str(snapshot.database), read_only=True) as con:
        if "experiment_report" in snapshot.tables and (truth / "experiments.json").is_file():
            lines.append("Lift in conversion rate (95% interval) | true lift:")
            lines += lift_lines(con, truth / "experiments.json") or ["  no complete conversion window yet"]
        if {"model_trainings", "predictions"} <= set(snapshot.tables) and (truth / "customers.csv").is_file():
            rows = con.execute(sql("activation/findings/models"), {"truth": str(truth / "customers.csv")})
            lines.append(
                "Model test AUC | rank correlation of its scores with the true propensity (churn risk):"
            )
            lines += [f"  {m} ({t}): AUC {auc:.3f} | {_fmt(c, 2)}" for m, t, auc, c in rows.fetchall()]
        if "attribution_summary" in snapshot.tables:
            models = [
                r[0]
                for r in con.execute("SELECT DISTINCT model FROM attribution_summary ORDER BY 1").fetchall()
            ]
            model = ATTRIBUTION_MODEL if ATTRIBUTION_MODEL in models else (models[0] if models else None)
            if model:
                top = con.execute(sql("activation/findings/channels"), {"model": model}).fetchall()
                lines.append(f"Top channels ({model}): " + ", ".join(f"{c} {v:,.0f}" for c, v in top))
    return "\n".join(lines)
