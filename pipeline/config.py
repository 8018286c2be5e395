"""The project config: pydantic models and a loader whose errors name the file and the key path."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.formats import FormatError, check_format

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Columns Nightjar adds to every table it loads; a declared field may not use these names.
SYSTEM_COLUMNS = ("_load_id", "_partition_date", "_row_number", "_first_seen_at", "_updated_at")


class ConfigError(Exception):
    """A config that cannot be used; ``problems`` holds (key path, message) pairs."""

    def __init__(self, file: str | Path, problems: list[tuple[str, str]]):
        self.file = str(file)
        self.problems = problems
        lines = [f"{self.file}: {path}: {msg}" if path else f"{self.file}: {msg}" for path, msg in problems]
        super().__init__("\n".join(lines))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldType(StrEnum):
    String = "String"
    Int = "Int"
    Decimal = "Decimal"
    Float = "Float"
    Bool = "Bool"
    Date = "Date"
    Timestamp = "Timestamp"


class Context(StrEnum):
    WEB = "WEB"
    MOBILE = "MOBILE"
    ECOMMERCE = "ECOMMERCE"
    RETAIL = "RETAIL"
    SOCIAL = "SOCIAL"
    DIGITAL_CAMPAIGN = "DIGITAL_CAMPAIGN"
    CONTACT_CENTER = "CONTACT_CENTER"
    IOT = "IOT"
    OTHER = "OTHER"


def _at(key: str, msg: str) -> ValueError:
    """An error of a model validator that belongs to one key below the model (see parse_config)."""
    return ValueError(f"@{key}@ {msg}")


_AT = re.compile(r"^@([^@]+)@ (.*)$", re.S)


def _identifier(value: str, what: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f"{what} {value!r} must start with a letter or _ and hold only letters, digits and _")
    return value


class FieldSpec(_Model):
    name: str
    type: FieldType
    format: str | None = None
    required: bool = False
    description: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        _identifier(v, "field name")
        if v.lower() in SYSTEM_COLUMNS:
            raise ValueError(f"field name {v!r} is reserved for Nightjar's own columns {SYSTEM_COLUMNS}")
        return v

    @field_validator("format")
    @classmethod
    def _format(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                check_format(v)
            except FormatError as e:
                raise ValueError(str(e)) from None
        return v

    @model_validator(mode="after")
    def _format_only_for_times(self) -> FieldSpec:
        if self.format is not None and self.type not in (FieldType.Date, FieldType.Timestamp):
            raise _at("format", f"format is only for Date and Timestamp fields, not {self.type.value}")
        return self


class LocalFilesSource(_Model):
    name: str
    kind: Literal["local_files"]
    folder: Path
    date_format: str = "%Y%m%d"

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _identifier(v, "source name")

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, v: str) -> str:
        if "%" not in v:
            raise ValueError(f"date_format {v!r} must be a strftime pattern such as %Y%m%d")
        return v


Source = LocalFilesSource


class FileDataset(_Model):
    """What every dataset read from a source has: where its files are and how to decode them."""

    source: str
    file_name: str
    encoding: Literal["utf-8", "latin-1"] = "utf-8"


IDENTIFIER_KINDS = ("customuid", "emailsha256", "idfa", "dmpid")
STANDARD_EVENT_TYPES = (
    "completedOrder", "viewedPage", "viewedProduct", "addedProduct", "abandonedCart",
    "campaignSent", "campaignOpened", "campaignLinkClicked",
)
IdentifierKind = Literal["customuid", "emailsha256", "idfa", "dmpid"]


class UtmFields(_Model):
    """Which fields of a transaction hold the UTM tags."""

    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None


class EventSpec(_Model):
    """How the rows of a transaction become `events`.

    The type is fixed (`type`, default: the transaction name) or read from a field
    (`type_field`, with `type_map` from its values to event types; unmapped values are kept).
    """

    type: str | None = None
    type_field: str | None = None
    type_map: dict[str, str] = Field(default_factory=dict)
    value: str | None = None
    currency: str | None = None
    channel: str | None = None
    utm: UtmFields = UtmFields()

    @model_validator(mode="after")
    def _one_type(self) -> EventSpec:
        if self.type and self.type_field:
            raise _at("type_field", "give either type or type_field, not both")
        if self.type_map and not self.type_field:
            raise _at("type_map", "type_map needs type_field")
        return self

    def fields_used(self) -> list[tuple[str, str]]:
        """(key path below `event`, field name) of every field the mapping names."""
        out = [(k, getattr(self, k)) for k in ("type_field", "value", "channel") if getattr(self, k)]
        out += [(f"utm.{k}", v) for k, v in self.utm.model_dump().items() if v]
        return out


class TransactionSpec(FileDataset):
    name: str
    customer_field: str
    # Which identifier(s) customer_field holds; several are tried in identity.match_on order.
    customer_key: IdentifierKind | list[IdentifierKind] = "customuid"
    time_field: str
    context: Context = Context.OTHER
    event: EventSpec = EventSpec()
    fields: list[FieldSpec] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _identifier(v, "transaction name")

    @model_validator(mode="after")
    def _fields(self) -> TransactionSpec:
        names = [f.name for f in self.fields]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise _at("fields", f"field names must be unique; repeated: {', '.join(dupes)}")
        if self.customer_field not in names:
            raise _at("customer_field", f"customer_field {self.customer_field!r} is not one of the fields {names}")
        if self.time_field not in names:
            raise _at("time_field", f"time_field {self.time_field!r} is not one of the fields {names}")
        time_type = self.field(self.time_field).type
        if time_type not in (FieldType.Date, FieldType.Timestamp):
            raise _at("time_field", f"time_field {self.time_field!r} must be a Date or Timestamp field, not {time_type.value}")
        for key, name in self.event.fields_used():
            if name not in names:
                raise _at(f"event.{key}", f"{name!r} is not one of the fields {names}")
        if self.event.value and self.field(self.event.value).type not in (FieldType.Decimal, FieldType.Float, FieldType.Int):
            raise _at("event.value", f"the value field {self.event.value!r} must be a number field")
        return self

    @property
    def customer_keys(self) -> list[str]:
        return [self.customer_key] if isinstance(self.customer_key, str) else list(self.customer_key)

    @property
    def event_type(self) -> str | None:
        """The fixed event type of every row, or None when it is read from `event.type_field`."""
        return None if self.event.type_field else (self.event.type or self.name)

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)

    @property
    def table(self) -> str:
        return f"tx_{self.name}"

    def is_required(self, f: FieldSpec) -> bool:
        return f.required or f.name in (self.customer_field, self.time_field)


class CustomersSpec(FileDataset):
    mode: Literal["create", "update", "overwrite"] = "update"


class ExclusionFilter(_Model):
    """Drop the customers whose property (a customer data column) matches, and all they did."""

    property: str
    op: Literal["STARTS_WITH", "CONTAINS", "EQUALS"]
    value: str

    @field_validator("property")
    @classmethod
    def _customer_column(cls, v: str) -> str:
        if v not in IDENTIFIER_KINDS and not v.startswith(("txt_", "num_", "attr_", "goal_")):
            raise ValueError(f"{v!r} is not a customer data column (customuid, emailsha256, idfa, dmpid, txt_*, num_*, attr_*, goal_*)")
        return _identifier(v, "property")


class IdentitySpec(_Model):
    """The matching policy: which identifiers join records into one customer, in priority order."""

    match_on: list[IdentifierKind] = Field(default_factory=lambda: ["customuid", "emailsha256"], min_length=1)
    case_sensitive: bool = False
    exclude: list[ExclusionFilter] = Field(default_factory=list)

    @field_validator("match_on")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"each identifier may appear once: {v}")
        return v


class ChecksSpec(_Model):
    max_reject_rate: float = Field(default=0.02, ge=0, le=1)
    # Above this share of rejected rows a load's check is an ERROR and blocks the assets downstream.
    block_reject_rate: float = Field(default=0.9, ge=0, le=1)

    @model_validator(mode="after")
    def _block_above_warn(self) -> ChecksSpec:
        if self.block_reject_rate < self.max_reject_rate:
            raise ValueError(f"block_reject_rate ({self.block_reject_rate}) must be at least max_reject_rate "
                             f"({self.max_reject_rate})")
        return self


class ProjectConfig(_Model):
    start_date: dt.date
    warehouse: Path
    checks: ChecksSpec = ChecksSpec()
    sources: list[Source] = Field(default_factory=list)
    customers: CustomersSpec | None = None
    transactions: list[TransactionSpec] = Field(default_factory=list)
    identity: IdentitySpec = IdentitySpec()
    # Months to keep the events of each type; types not listed are kept for ever.
    retention: dict[str, int] = Field(default_factory=dict)
    # Where the config file lives: relative paths in it are relative to this folder.
    base_dir: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _references(self) -> ProjectConfig:
        names = [s.name for s in self.sources]
        for i, t in enumerate(self.transactions):
            if t.source not in names:
                raise _at(f"transactions[{i}].source", f"unknown source {t.source!r} (declared: {names})")
        if self.customers and self.customers.source not in names:
            raise _at("customers.source", f"unknown source {self.customers.source!r} (declared: {names})")
        for event_type, months in self.retention.items():
            if months < 1:
                raise _at(f"retention.{event_type}", f"keep at least 1 month, not {months}")
        tx_names = [t.name for t in self.transactions]
        for i, n in enumerate(tx_names):
            if n in tx_names[:i]:
                raise _at(f"transactions[{i}].name", f"the name {n!r} is used twice")
        return self

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    @property
    def warehouse_path(self) -> Path:
        return self.resolve(self.warehouse)

    def source(self, name: str) -> Source:
        return next(s for s in self.sources if s.name == name)

    def transaction(self, name: str) -> TransactionSpec:
        for t in self.transactions:
            if t.name == name:
                return t
        raise KeyError(f"no transaction named {name!r} (declared: {[t.name for t in self.transactions]})")


def key_path(loc: tuple) -> str:
    """('transactions', 2, 'fields', 0, 'format') -> 'transactions[2].fields[0].format'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_config(data: object, file: str | Path, base_dir: Path) -> ProjectConfig:
    if not isinstance(data, dict):
        raise ConfigError(file, [("", "the config must be a YAML mapping (key: value) at the top level")])
    try:
        return ProjectConfig.model_validate({**data, "base_dir": base_dir})
    except ValidationError as e:
        problems = []
        for err in e.errors():
            msg = err["msg"].removeprefix("Value error, ")
            path = key_path(err["loc"])
            if m := _AT.match(msg):
                sub, msg = m.groups()
                path = f"{path}.{sub}" if path and not sub.startswith("[") else path + sub
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; see nightjar.example.yaml)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            problems.append((path, msg))
        raise ConfigError(file, problems) from None


def load_config(path: str | Path) -> ProjectConfig:
    """Read and validate a project config; raise ConfigError naming the file and key paths."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, [("", "file not found")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(path, [("", f"not valid YAML: {where}{getattr(e, 'problem', e)}")]) from None
    except ValueError as e:  # YAML reads 2026-13-01 as a date and fails on it
        raise ConfigError(path, [("", f"a value YAML reads as a date is not a date: {e}")]) from None
    return parse_config(data, path, path.resolve().parent)
