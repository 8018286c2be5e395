"""The activation domain's settings: everything upstream, plus the exports (`exports:`).

Activation composes the two branches of the data flow (experiments and attribution) that it hands on.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from pipeline.attribution.config import AttributionConfig
from pipeline.core.settings import Settings, at, identifier
from pipeline.experiments.config import ExperimentsConfig

EXPORT_TABLES = ("results", "predictions", "recommendations", "attribution", "conversions")
EXPORT_FORMATS = ("csv", "parquet", "jsonl")


class ExportSpec(Settings):
    """One night's rows of a table, written every night to a destination (an `export_<name>` asset)."""

    name: str
    table: Literal["results", "predictions", "recommendations", "attribution", "conversions"]
    # a file path, sftp://SOURCE/PATH or gcs://SOURCE/PATH ({date} becomes the partition's date), or
    # bigquery://SOURCE/DATASET.TABLE (the day's rows of a table)
    destination: str
    format: Literal["csv", "parquet", "jsonl"] = "csv"
    columns: list[str] | None = Field(default=None, min_length=1)  # default: every column of the table

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return identifier(v, "export name")

    @field_validator("destination")
    @classmethod
    def _destination(cls, v: str) -> str:
        if "{date}" not in v and not v.lower().startswith("bigquery://"):
            raise ValueError(f"{v!r} has no {{date}}: each night's partition needs its own file")
        return v


class ActivationConfig(ExperimentsConfig, AttributionConfig):
    """The settings of every domain up to activation."""

    exports: list[ExportSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_exports(self) -> ActivationConfig:
        seen: set[str] = set()
        for i, spec in enumerate(self.exports):
            if spec.name in seen:
                raise at(f"exports[{i}].name", f"{spec.name!r} is the name of an earlier export")
            seen.add(spec.name)
        return self

    def export(self, name: str) -> ExportSpec:
        found = next((e for e in self.exports if e.name == name), None)
        if found is None:
            names = ", ".join(e.name for e in self.exports) or "none"
            raise KeyError(f"there is no export {name!r} in the config (its exports: {names})")
        return found
