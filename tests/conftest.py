"""Shared fixtures: a project config in a temp folder, and a small demo world."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from pipeline.config import ProjectConfig, parse_config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "nightjar.example.yaml"


# a transaction of uploaded conversions (one per customer, experiment and time, with a value), as the
# experiments' tests configure it
UPLOADED_CONVERSIONS = {
    "name": "uploaded_conversions",
    "source": "landing",
    "file_name": "conversions_upload",
    "customer_field": "customer_id",
    "time_field": "conversion_datetime",
    "fields": [
        {"name": "customer_id", "type": "String"},
        {"name": "experiment", "type": "String"},
        {"name": "conversion_datetime", "type": "Timestamp", "format": "yyyy-mm-dd hh:mm:ss"},
        {"name": "conversion_value", "type": "Decimal"},
    ],
}


def example_dict() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def make_config(folder: Path, start: dt.date = dt.date(2026, 1, 1), **changes) -> ProjectConfig:
    """The example config rooted in ``folder`` (files in folder/files, warehouse in folder).

    Without the example's models unless ``models=...`` is given (training is the slow part of a run).
    """
    data = example_dict()
    data.pop("models", None)
    for experiment in data.get("experiments", []) if "models" not in changes else []:
        experiment.pop("model", None)  # the example's experiments name its models
        experiment.pop("policy", None)  # and a learned policy learns from a model's features
    data["start_date"] = start.isoformat()
    if (
        "transactions" in changes
    ):  # the example's experiments name its transactions: keep them only with those
        for key in ("variants", "experiments", "groups", "conversions"):
            if key not in changes:
                data.pop(key, None)
    data.update(changes)
    (folder / "files").mkdir(parents=True, exist_ok=True)
    path = folder / "nightjar.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return parse_config(data, path, folder)


@pytest.fixture
def project(tmp_path: Path) -> ProjectConfig:
    return make_config(tmp_path)


POS_HEADER = "order_id,customer_id,purchased_at,store,product,quantity,amount"


def write_pos(folder: Path, day: dt.date, rows: list[str]) -> Path:
    """A trans_pos CSV for ``day``; each row is 'order_id,customer_id,store,product,qty,amount' sans date."""
    lines = [POS_HEADER]
    for r in rows:
        oid, cid, rest = r.split(",", 2)
        lines.append(f"{oid},{cid},{day:%m/%d/%Y},{rest}")
    path = folder / f"trans_pos_{day:%Y%m%d}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_nightly(
    config: ProjectConfig,
    first: dt.date,
    last: dt.date | None = None,
    assets: list[str] | None = None,
    instance=None,
):
    """Run the nightly job in-process for one day or a range (one run), optionally for some assets."""
    import dagster as dg

    from pipeline.definitions import build_definitions

    job = build_definitions(config).resolve_job_def("nightly")
    last = last or first
    return job.execute_in_process(
        instance=instance or dg.DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        asset_selection=[dg.AssetKey(a) for a in assets] if assets else None,
        raise_on_error=False,
    )
