"""The config base every domain's settings build on, and the error that names the key path."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

OLDEST_START_DATE = dt.date(1990, 1, 1)
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConfigError(Exception):
    """A config that cannot be used; ``problems`` holds (key path, message) pairs."""

    def __init__(self, file: str | Path, problems: list[tuple[str, str]]):
        self.file = str(file)
        self.problems = problems
        lines = [f"{self.file}: {path}: {msg}" if path else f"{self.file}: {msg}" for path, msg in problems]
        super().__init__("\n".join(lines))


class Settings(BaseModel):
    # every number of a config is finite: YAML's .inf or .nan is refused where it is read (a timeout,
    # a back-off, a cost, a threshold), not met later as a hang or a NaN in the results
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class FieldType(StrEnum):
    String = "String"
    Int = "Int"
    Decimal = "Decimal"
    Float = "Float"
    Bool = "Bool"
    Date = "Date"
    Timestamp = "Timestamp"


def at(key: str, msg: str) -> ValueError:
    """An error of a model validator that belongs to one key below the model (see parse_config)."""
    return ValueError(f"@{key}@ {msg}")


AT = re.compile(r"^@([^@]+)@ (.*)$", re.S)


def identifier(value: str, what: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(
            f"{what} {value!r} must start with a letter or _ and hold only letters, digits and _"
        )
    return value


def key_path(loc: tuple) -> str:
    """('transactions', 2, 'fields', 0, 'format') -> 'transactions[2].fields[0].format'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class ProjectBase(Settings):
    """What every project has: the first partition day, the warehouse file, and where the config lives."""

    start_date: dt.date
    # A start before 1990 is refused (a typo such as year 1 would plan 739,951 daily partitions)
    # unless the project says its history really is that old.
    allow_old_start_date: bool = False
    warehouse: Path
    # Where the config file lives: relative paths in it are relative to this folder.
    base_dir: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _start_date_in_range(self) -> ProjectBase:
        today = dt.datetime.now(dt.UTC).date()
        if self.start_date > today:
            raise at("start_date", f"{self.start_date} is in the future (today is {today} in UTC)")
        if self.start_date < OLDEST_START_DATE and not self.allow_old_start_date:
            raise at(
                "start_date",
                f"{self.start_date} is before {OLDEST_START_DATE}: check the year, or set "
                "allow_old_start_date: true if the history really starts then",
            )
        return self

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    @property
    def warehouse_path(self) -> Path:
        return self.resolve(self.warehouse)
