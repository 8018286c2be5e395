"""`nightjar model versions|promote|rollback NAME`: the text a person reads (see pipeline/cli/models.py)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from pipeline.core.warehouse import connect
from pipeline.models import champion


def model_command(command: str, model: str, version: dt.date | None, warehouse: Path) -> str:
    """Run one model command on the warehouse (its store beside it); returns what to print.
    Raises VersionError / FileNotFoundError / WarehouseError with a message for the person."""
    store_dir = warehouse.resolve().parent / "models"
    with connect(warehouse, read_only=command == "versions") as con:
        if command == "promote":
            if version is None:
                raise champion.VersionError("promote needs the VERSION (YYYY-MM-DD)")
            champion.promote(con, model, version, store_dir)
            return f"model {model}: version {version} is in use (later FINISHED versions RETIRED)"
        if command == "rollback":
            retired, current = champion.rollback(con, model, store_dir)
            return f"model {model}: version {retired} RETIRED; version {current} is in use again"
        rows = champion.versions(con, model)
    if not rows:
        return f"model {model}: no trained version yet"
    lines = [f"{'version':<10}  {'status':<8}  {'test AUC':>8}  {'gain':>7}  reason"]
    for v, status, auc, gain, why in rows:
        auc_text = "" if math.isnan(auc) else f"{auc:.4f}"
        gain_text = "" if math.isnan(gain) else f"{gain:+.4f}"
        lines.append(f"{v!s:<10}  {status:<8}  {auc_text:>8}  {gain_text:>7}  {why or ''}")
    return "\n".join(lines)
