"""The Dagster resources of the sources, built from the config by each kind (see registry.py).

Secrets come in through dagster.EnvVar only: a source's ``*_env`` keys name the environment
variables; the values are read by Dagster at run time and never logged.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from pipeline.core.settings import ProjectBase
from pipeline.ingest.sources.registry import SourceSettings, source_kind


def resource_key(source_name: str) -> str:
    """The resource key of a source: ``source_<name>``."""
    return f"source_{source_name}"


def source_resource(config: ProjectBase, s: SourceSettings) -> dg.ConfigurableResource | None:
    """The resource of one source (None for a kind that needs none, such as local files)."""
    build = source_kind(s.kind).resource
    return build(config, s) if build else None


def source_resources(
    config: ProjectBase, sources: Sequence[SourceSettings]
) -> dict[str, dg.ConfigurableResource]:
    """The resources of the sources that need one, by resource key."""
    out = {}
    for s in sources:
        r = source_resource(config, s)
        if r is not None:
            out[resource_key(s.name)] = r
    return out
