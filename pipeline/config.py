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



# --------------------------------------------------------------------------------------------
# experiments (SPEC 3, 4): variants, experiments, groups, conversions  (issue 6)
# --------------------------------------------------------------------------------------------
from pipeline.rules import Rule  # noqa: E402  (rules imports _Model and FieldType from above)

EXPERIMENT_TYPES = ("NBO", "NBC", "NBT", "AB")
CONTROL = "control"  # the variant name of a held-out customer in `results`
UPLOADED_CONVERSION_FIELDS = {
    "customer_id": (FieldType.String,), "experiment": (FieldType.String,),
    "conversion_datetime": (FieldType.Timestamp, FieldType.Date),
    "conversion_value": (FieldType.Decimal, FieldType.Float, FieldType.Int),
}


class VariantSpec(_Model):
    """What a customer may be given: an offer, a channel, a time. ``rules``: who is eligible."""

    name: str
    code: str | None = None
    category: str | None = None
    message: str
    rules: list[Rule] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        _identifier(v, "variant name")
        if v == CONTROL:
            raise ValueError(f"{CONTROL!r} is the name of the held-out group; choose another variant name")
        return v


class ExperimentSpec(_Model):
    name: str
    type: Literal["NBO", "NBC", "NBT", "AB"]
    model: str | None = None           # a model whose score is the customer's propensity
    variants: list[str] = Field(min_length=1)
    enabled: bool = True
    control_share: float = Field(default=0.1, ge=0, lt=1)
    exploration: float = Field(default=0.1, ge=0, le=1)
    audience: list[Rule] = Field(default_factory=list)
    start: dt.date | None = None       # first presentation date (default: always)
    end: dt.date | None = None         # last presentation date (default: always)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _identifier(v, "experiment name")

    @model_validator(mode="after")
    def _checks(self) -> ExperimentSpec:
        repeated = sorted({v for v in self.variants if self.variants.count(v) > 1})
        if repeated:
            raise _at("variants", f"each variant may appear once; repeated: {', '.join(repeated)}")
        if self.start and self.end and self.end < self.start:
            raise _at("end", f"end {self.end} is before start {self.start}")
        return self


class GroupSpec(_Model):
    """Experiments decided together: one decision per customer, the best expected value."""

    name: str
    experiments: list[str] = Field(min_length=2)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _identifier(v, "group name")


class ConversionDefinition(_Model):
    """A conversion for ``experiment``: a transaction row matching every rule (all rules name one transaction)."""

    name: str
    experiment: str
    rules: list[Rule] = Field(min_length=1)
    value_field: str | None = None     # a number field of the transaction holding the money value
    value: float | None = None         # else a fixed money value per conversion (default 0)
    count: Literal["first", "all"] = "first"  # first: one conversion per presentation; all: every match

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _identifier(v, "conversion name")

    @model_validator(mode="after")
    def _checks(self) -> ConversionDefinition:
        if self.value_field and self.value is not None:
            raise _at("value", "give either value_field or value, not both")
        for j, r in enumerate(self.rules):
            if r.transaction != self.rules[0].transaction:
                raise _at(f"rules[{j}].transaction", f"all rules of a conversion name one transaction "
                          f"({self.rules[0].transaction!r}), not {r.transaction!r}")
        return self

    @property
    def transaction(self) -> str:
        return self.rules[0].transaction


class ConversionsSpec(_Model):
    window_days: int = Field(default=30, ge=1, le=365)
    definitions: list[ConversionDefinition] = Field(default_factory=list)
    # A transaction holding uploaded conversions: customer_id, experiment, conversion_datetime, conversion_value.
    uploaded: str | None = None


class ExperimentsMixin:
    """The cross-references of the experiment sections, checked against the transactions' schemas."""

    def _check_experiments(self) -> None:
        from pipeline.rules import RuleError, rule_condition

        schemas = {t.name: {f.name: f.type for f in t.fields} for t in self.transactions}

        def rules(path: str, items: list[Rule]) -> None:
            for j, r in enumerate(items):
                try:
                    rule_condition(r, schemas)
                except RuleError as e:
                    raise _at(f"{path}[{j}].{e.key}", str(e)) from None

        def unique(kind: str, names: list[str]) -> None:
            for i, n in enumerate(names):
                if n in names[:i]:
                    raise _at(f"{kind}[{i}].name", f"the name {n!r} is used twice")

        unique("variants", [v.name for v in self.variants])
        unique("experiments", [e.name for e in self.experiments])
        unique("groups", [g.name for g in self.groups])
        variants = [v.name for v in self.variants]
        experiments = [e.name for e in self.experiments]
        for i, v in enumerate(self.variants):
            rules(f"variants[{i}].rules", v.rules)
        for i, e in enumerate(self.experiments):
            for j, name in enumerate(e.variants):
                if name not in variants:
                    raise _at(f"experiments[{i}].variants[{j}]", f"unknown variant {name!r} (declared: {variants})")
            rules(f"experiments[{i}].audience", e.audience)
        seen: dict[str, str] = {}
        for i, g in enumerate(self.groups):
            for j, name in enumerate(g.experiments):
                if name not in experiments:
                    raise _at(f"groups[{i}].experiments[{j}]", f"unknown experiment {name!r} (declared: {experiments})")
                if name in seen:
                    raise _at(f"groups[{i}].experiments[{j}]", f"experiment {name!r} is already in group {seen[name]!r}")
                seen[name] = g.name
        conv = self.conversions
        for i, d in enumerate(conv.definitions):
            path = f"conversions.definitions[{i}]"
            if d.experiment not in experiments:
                raise _at(f"{path}.experiment", f"unknown experiment {d.experiment!r} (declared: {experiments})")
            rules(f"{path}.rules", d.rules)
            if d.value_field:
                ftype = schemas[d.transaction].get(d.value_field)
                if ftype not in (FieldType.Decimal, FieldType.Float, FieldType.Int):
                    raise _at(f"{path}.value_field", f"{d.value_field!r} is not a number field of {d.transaction!r}")
        unique("conversions.definitions", [d.name for d in conv.definitions])
        if conv.uploaded:
            if conv.uploaded not in schemas:
                raise _at("conversions.uploaded", f"unknown transaction {conv.uploaded!r} (declared: {sorted(schemas)})")
            for name, types in UPLOADED_CONVERSION_FIELDS.items():
                if schemas[conv.uploaded].get(name) not in types:
                    raise _at("conversions.uploaded", f"the transaction {conv.uploaded!r} must have a field {name!r} "
                              f"of type {' or '.join(t.value for t in types)}")
            spec = next(t for t in self.transactions if t.name == conv.uploaded)
            if spec.customer_field != "customer_id" or spec.time_field != "conversion_datetime":
                raise _at("conversions.uploaded", f"the transaction {conv.uploaded!r} must have customer_field: "
                          "customer_id and time_field: conversion_datetime")

    def experiment(self, name: str) -> ExperimentSpec:
        return next(e for e in self.experiments if e.name == name)

    def variant(self, name: str) -> VariantSpec:
        return next(v for v in self.variants if v.name == name)

    def group_of(self, experiment: str) -> str | None:
        return next((g.name for g in self.groups if experiment in g.experiments), None)


class ProjectConfig(ExperimentsMixin, _Model):
    start_date: dt.date
    warehouse: Path
    checks: ChecksSpec = ChecksSpec()
    sources: list[Source] = Field(default_factory=list)
    customers: CustomersSpec | None = None
    transactions: list[TransactionSpec] = Field(default_factory=list)
    identity: IdentitySpec = IdentitySpec()
    # Months to keep the events of each type; types not listed are kept for ever.
    retention: dict[str, int] = Field(default_factory=dict)
    # Experiments (SPEC 3, 4; see ExperimentsMixin): what to decide nightly and how to measure it.
    variants: list[VariantSpec] = Field(default_factory=list)
    experiments: list[ExperimentSpec] = Field(default_factory=list)
    groups: list[GroupSpec] = Field(default_factory=list)
    conversions: ConversionsSpec = ConversionsSpec()
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
        self._check_experiments()
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
