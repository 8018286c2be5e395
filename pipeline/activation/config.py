"""The activation domain's settings: everything upstream, plus the exports (`exports:`).

Activation composes the two branches of the data flow (experiments and attribution) that it hands on.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from pipeline.attribution.config import AttributionConfig
from pipeline.core.rules import FieldFormula
from pipeline.core.settings import Settings, at, identifier
from pipeline.experiments.config import ExperimentsConfig

EXPORT_TABLES = ("results", "predictions", "recommendations", "attribution", "conversions", "segments")
EXPORT_FORMATS = ("csv", "parquet", "jsonl")
# schedule: a name or five cron fields (minute hour day-of-month month day-of-week, UTC)
SCHEDULES = {"daily": "0 4 * * *", "weekly": "0 4 * * 1"}
# the tag of an export asset with a schedule of its own (the nightly job leaves it out)
SCHEDULE_TAG, OWN_SCHEDULE = "nightjar/schedule", "own"
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?-]+$")
_REMOTE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/]*)")
REMOTE_SCHEMES = ("sftp", "gcs", "bigquery")


def twice_given(columns: list[str]) -> str | None:
    """``"a is given twice"`` for the first column named more than once (a file holds each once), or None."""
    return next((f"{c} is given twice" for i, c in enumerate(columns) if c in columns[:i]), None)


class WhereRule(FieldFormula):
    """A rule over a column of the exported table: ``{field, formula: {op: value}}`` (the operators of
    the project's rules, pipeline/core/rules.py; the value is typed by the column's type)."""


class ExportSpec(Settings):
    """One night's rows of a table, written every night to a destination (an `export_<name>` asset)."""

    name: str
    table: Literal["results", "predictions", "recommendations", "attribution", "conversions", "segments"]
    # a file path, sftp://SOURCE/PATH or gcs://SOURCE/PATH ({date} becomes the rows' day), or
    # bigquery://SOURCE/DATASET.TABLE (the day's rows of a table)
    destination: str
    format: Literal["csv", "parquet", "jsonl"] = "csv"
    columns: list[str] | None = Field(default=None, min_length=1)  # default: every column of the table
    where: list[WhereRule] = Field(default_factory=list)  # only the rows every rule holds for
    # daily | weekly | five cron fields: the export runs on its own schedule, not in the nightly job
    schedule: str | None = None

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str | None) -> str | None:
        if v is None or v in SCHEDULES:
            return v
        fields = v.split()
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
            raise ValueError(
                f"{v!r} is neither daily, weekly nor a cron expression of five fields "
                "(minute hour day-of-month month day-of-week, UTC), e.g. '30 5 * * *'"
            )
        return v

    @property
    def cron(self) -> str | None:
        """The schedule's cron expression (UTC), or None: the export runs in the nightly job."""
        return SCHEDULES.get(self.schedule, self.schedule) if self.schedule else None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return identifier(v, "export name")

    @field_validator("columns")
    @classmethod
    def _columns(cls, v: list[str] | None) -> list[str] | None:
        if v and (twice := twice_given(v)):
            raise ValueError(twice)
        return v

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
            if problem := self._remote_problem(spec.destination):
                raise at(f"exports[{i}].destination", problem)
        return self

    def _remote_problem(self, destination: str) -> str | None:
        """Why a remote destination cannot be used (its scheme, its source), before any run."""
        m = _REMOTE.match(destination)
        if not m:
            return None
        scheme, name = m.group(1).lower(), m.group(2)
        if scheme not in REMOTE_SCHEMES:
            return (
                f"unknown destination {scheme}://; use a file path, sftp://<source>/<path>, "
                "gcs://<source>/<path> or bigquery://<source>/<dataset>.<table>"
            )
        if not any(s.name == name and s.kind == scheme for s in self.sources):
            named = ", ".join(s.name for s in self.sources if s.kind == scheme) or "none"
            return f"there is no {scheme} source {name!r} under sources: (its {scheme} sources: {named})"
        return None

    def export(self, name: str) -> ExportSpec:
        found = next((e for e in self.exports if e.name == name), None)
        if found is None:
            names = ", ".join(e.name for e in self.exports) or "none"
            raise KeyError(f"there is no export {name!r} in the config (its exports: {names})")
        return found
