"""The one entry point: Definitions built from the project config.

The config is found in $NIGHTJAR_CONFIG, else demo/nightjar.yaml (written by `make demo`) in the
project folder, else nightjar.example.yaml (the packaged copy in an installed wheel; see
pipeline.core.resources).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import dagster as dg

from assets.activation import build_activation_assets, build_export_schedules
from assets.attribution import build_attribution_assets
from assets.customers import build_customer_assets
from assets.experiments import build_experiment_assets
from assets.ingest import build_ingest_assets
from assets.models import build_model_assets
from pipeline.config import ProjectConfig, load_config
from pipeline.core.partitions import daily_partitions
from pipeline.core.resources import example_config
from pipeline.core.warehouse import WarehouseResource
from pipeline.ingest.sources.resources import source_resources
from pipeline.ops.jobs import build_nightly_job
from pipeline.ops.remote_sensors import build_remote_sensors
from pipeline.ops.schedules import build_nightly_schedule
from pipeline.ops.sensors import build_file_sensors

# Single-run backfill policies and pools are "beta"/"preview" in Dagster; they are what we want.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

PROJECT_DIR = Path(__file__).resolve().parent.parent


def default_config_path() -> Path:
    if os.environ.get("NIGHTJAR_CONFIG"):
        return Path(os.environ["NIGHTJAR_CONFIG"])
    demo = PROJECT_DIR / "demo" / "nightjar.yaml"
    return demo if demo.exists() else example_config()


def build_definitions(config: ProjectConfig, warehouse: Path | None = None) -> dg.Definitions:
    partitions = daily_partitions(config.start_date)
    assets = build_ingest_assets(config, partitions) + build_customer_assets(config, partitions)
    # What has nothing configured is not built, so no run spends a step on it: no attribution assets
    # without a conversion to credit, no experiment assets without an experiment (no models: no
    # model assets, in build_model_assets).
    if config.attribution.conversions:
        assets += build_attribution_assets(config, partitions)
    assets += build_model_assets(config, partitions)
    if config.experiments:
        assets += build_experiment_assets(config, partitions)
    assets += build_activation_assets(config, partitions, assets)
    nightly = build_nightly_job(partitions)
    sensors = build_file_sensors(config, partitions) + build_remote_sensors(config, partitions)
    return dg.Definitions(
        assets=assets,
        jobs=[nightly],
        schedules=[build_nightly_schedule(nightly), *build_export_schedules(config, partitions)],
        sensors=sensors,
        resources={
            "warehouse": WarehouseResource(path=str(warehouse or config.warehouse_path)),
            **source_resources(config, config.sources),
        },
        executor=dg.in_process_executor,
    )


defs = build_definitions(load_config(default_config_path()))
