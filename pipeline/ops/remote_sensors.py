"""Sensors of the remote file sources (SFTP, GCS, any kind that lists dated files): a run for each
new or changed file/object.

The cursor is JSON {file name: identity}; the identity is name + version (SFTP: size and mtime,
GCS: generation), and so is the run key. Sensors list the remote folder/bucket only: they never
open the warehouse.
"""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg

from pipeline.config import ProjectConfig
from pipeline.ingest.sources.files import SourceError
from pipeline.ingest.sources.registry import SourceSettings, dataset_file_name, source_kind
from pipeline.ingest.sources.resources import resource_key
from pipeline.ops.sensors import new_file_requests


def build_remote_sensor(
    config: ProjectConfig, source: SourceSettings, partitions: dg.DailyPartitionsDefinition
) -> dg.SensorDefinition:
    key = resource_key(source.name)
    list_dated = source_kind(source.kind).list_dated
    if list_dated is None:
        raise ValueError(f"source kind {source.kind!r} lists no files: it has no sensor")
    datasets = [(dataset_file_name(source, t), t.table) for t in _dated(config, source.name)]

    @dg.sensor(
        name=f"{source.name}_files_sensor",
        minimum_interval_seconds=60,
        target=dg.AssetSelection.assets(*[a for _, a in datasets]),
        description=f"Runs the dataset's asset for every new or changed file on {source.kind} "
        f"source {source.name}.",
        default_status=dg.DefaultSensorStatus.STOPPED,
        required_resource_keys={key},
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        res = getattr(context.resources, key)
        cursor = json.loads(context.cursor) if context.cursor else {}
        files, problems = {}, []
        for fn, asset in datasets:  # a loop over the source's datasets, not rows
            try:
                files[asset] = list_dated(res, fn, source.date_format)
            except SourceError as e:  # e.g. two files of one day: that dataset waits, not the others
                problems.append(f"{asset}: {e}")
        if problems and not files:
            return dg.SensorResult(skip_reason="; ".join(problems), cursor=context.cursor)
        for problem in problems:
            context.log.warning(f"{problem}: none of its files is requested until then")
        keys = set(partitions.get_partition_keys(current_time=dt.datetime.now(dt.UTC)))
        requests, new_cursor, notes = new_file_requests(files, {a: True for _, a in datasets}, cursor, keys)
        for note in notes:
            context.log.info(note)
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(new_cursor, sort_keys=True))

    return _sensor


def build_remote_sensors(
    config: ProjectConfig, partitions: dg.DailyPartitionsDefinition
) -> list[dg.SensorDefinition]:
    return [
        build_remote_sensor(config, s, partitions)
        for s in config.sources
        if source_kind(s.kind).remote
        and source_kind(s.kind).list_dated is not None
        and _dated(config, s.name)
    ]


def _dated(config: ProjectConfig, source: str) -> list:
    """The source's datasets of dated files (range files are picked up by the daily run, not watched)."""
    return [t for t in config.transactions if t.source == source and t.files != "range"]
