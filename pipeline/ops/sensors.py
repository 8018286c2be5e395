"""Sensors: notice new or changed files in local source folders. They never open the warehouse."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import cast

import dagster as dg

from pipeline.config import ProjectConfig
from pipeline.ingest.customers import CUSTOMERS
from pipeline.ingest.sources.files import LandedFile, RemoteFile
from pipeline.ingest.sources.local_files import LocalFilesSource, usable_files
from pipeline.ingest.sources.registry import dataset_file_name, source_kind


def watched_datasets(config: ProjectConfig, source: LocalFilesSource) -> list[tuple[str, str, bool]]:
    """(file_name, asset name, partitioned) of every dataset of dated files read from ``source`` (range
    files are picked up by the daily run, not watched)."""
    out = [
        (dataset_file_name(source, t), t.table, True)
        for t in config.transactions
        if t.source == source.name and t.files != "range"
    ]
    if config.customers and config.customers.source == source.name and config.customers.file_name:
        out.append((config.customers.file_name, CUSTOMERS, False))
    return out


def new_file_requests(
    files: Mapping[str, Sequence[LandedFile | RemoteFile]],
    partitioned: dict[str, bool],
    cursor: dict[str, str],
    partition_keys: set[str],
) -> tuple[list[dg.RunRequest], dict[str, str], list[str]]:
    """Run requests for files whose identity (name + size + mtime) is not in ``cursor``.

    Returns the requests, the new cursor, and notes on files that were skipped because their day
    is not a partition yet; those stay out of the cursor, so a later tick requests them.
    """
    requests, notes = [], []
    new_cursor = dict(cursor)
    for asset, landed in files.items():
        for f in landed:
            if cursor.get(f.name) == f.identity:
                continue
            key = f.day.isoformat()
            if partitioned[asset] and key not in partition_keys:
                notes.append(f"{f.name}: day {key} is not a partition (before start_date, or not over yet)")
                continue
            new_cursor[f.name] = f.identity
            requests.append(
                dg.RunRequest(
                    run_key=f"{asset}:{f.identity}",
                    asset_selection=[dg.AssetKey(asset)],
                    partition_key=key if partitioned[asset] else None,
                    tags={"nightjar/file": f.name},
                )
            )
    return requests, new_cursor, notes


def build_file_sensor(
    config: ProjectConfig, source: LocalFilesSource, partitions: dg.DailyPartitionsDefinition
) -> dg.SensorDefinition:
    folder = config.resolve(source.folder)
    datasets = watched_datasets(config, source)

    @dg.sensor(
        name=f"{source.name}_files_sensor",
        minimum_interval_seconds=60,
        target=dg.AssetSelection.assets(*[a for _, a, _ in datasets]),
        description=f"Runs the dataset's asset for every new or changed file in {folder}.",
        default_status=dg.DefaultSensorStatus.STOPPED,
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        cursor = json.loads(context.cursor) if context.cursor else {}
        listed = {asset: usable_files(folder, name, source.date_format) for name, asset, _ in datasets}
        for asset, (_, stray) in listed.items():
            for problem in stray:  # skipped, never blocking the other files or datasets
                context.log.warning(f"{asset}: {problem}")
        files = {asset: usable for asset, (usable, _) in listed.items()}
        now = dt.datetime.now(dt.UTC)
        keys = set(partitions.get_partition_keys(current_time=now))
        requests, new_cursor, notes = new_file_requests(files, {a: p for _, a, p in datasets}, cursor, keys)
        for note in notes:
            context.log.info(note)
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(new_cursor, sort_keys=True))

    return _sensor


def build_file_sensors(
    config: ProjectConfig, partitions: dg.DailyPartitionsDefinition
) -> list[dg.SensorDefinition]:
    """A sensor per source whose folder is on this machine (the kinds without a resource)."""
    return [
        build_file_sensor(config, cast(LocalFilesSource, s), partitions)
        for s in config.sources
        if not source_kind(s.kind).remote
    ]
