"""The project config: pydantic models and a loader whose errors name the file and the key path."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

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


# --- remote sources (issue 3): SFTP, GCS, BigQuery, GA4 export, SQL Server -------------------
# Secrets are never in the YAML: a source names the environment variable that holds them
# (`*_env` keys), and Dagster reads it through dagster.EnvVar at run time.


class _RemoteSource(_Model):
    name: str
    date_format: str = "%Y%m%d"

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _identifier(v, "source name")


class SftpSource(_RemoteSource):
    kind: Literal["sftp"]
    host: str
    port: int = Field(default=22, ge=1, le=65535)
    username: str
    password_env: str | None = None          # env var holding the password
    private_key_env: str | None = None       # env var holding a private key (PEM/OpenSSH text)
    private_key_path: Path | None = None     # or a private key file
    known_hosts: Path | None = None          # host-key checking against a known_hosts file ...
    host_key_fingerprint: str | None = None  # ... or a pinned "SHA256:..." fingerprint
    check_host_key: bool = True              # false only for throw-away test servers
    folder: str = "."                        # remote folder
    timeout_seconds: float = Field(default=15, gt=0)
    retries: int = Field(default=3, ge=0)

    @model_validator(mode="after")
    def _auth(self) -> SftpSource:
        if not (self.password_env or self.private_key_env or self.private_key_path):
            raise _at("password_env", "give password_env, private_key_env or private_key_path")
        if self.check_host_key and not (self.known_hosts or self.host_key_fingerprint):
            raise _at("known_hosts", "host-key checking is on: give known_hosts or host_key_fingerprint "
                      "(or check_host_key: false for a throw-away test server)")
        return self


class GcsSource(_RemoteSource):
    kind: Literal["gcs"]
    bucket: str
    prefix: str = ""                         # objects are <prefix><file_name>_<date>.<ext>
    project: str | None = None
    credentials_env: str | None = None       # env var holding a service-account key file path
    endpoint: str | None = None              # an emulator's URL (tests, `nightjar demo --via gcs`)


class QuerySpec(_Model):
    """The query of one transaction. `@start`/`@end` (BigQuery) or `?` markers (SQL Server:
    start, end) receive the partition window; with `watermark` the query gets the last value of
    that column seen instead (incremental by watermark)."""

    sql: str
    watermark: str | None = None


class BigQuerySource(_RemoteSource):
    kind: Literal["bigquery"]
    project: str
    location: str | None = None
    credentials_env: str | None = None
    endpoint: str | None = None
    queries: dict[str, QuerySpec] = Field(default_factory=dict)  # transaction name -> query


class Ga4Source(_RemoteSource):
    kind: Literal["ga4"]
    project: str
    dataset: str                             # the export's dataset, analytics_<property id>
    credentials_env: str | None = None
    endpoint: str | None = None

    @field_validator("project", "dataset")
    @classmethod
    def _bq_name(cls, v: str) -> str:  # they are part of a table name, so only these characters
        if not re.fullmatch(r"[A-Za-z0-9_-]+", v):
            raise ValueError(f"{v!r} may hold only letters, digits, _ and -")
        return v


class MssqlSource(_RemoteSource):
    kind: Literal["mssql"]
    connection_string_env: str               # env var holding the whole ODBC connection string
    batch_size: int = Field(default=10_000, ge=1)
    queries: dict[str, QuerySpec] = Field(default_factory=dict)


FILE_SOURCE_KINDS = ("local_files", "sftp", "gcs")
SOURCE_KINDS = ("local_files", "sftp", "gcs", "bigquery", "ga4", "mssql")
Source = Annotated[
    LocalFilesSource | SftpSource | GcsSource | BigQuerySource | Ga4Source | MssqlSource,
    Field(discriminator="kind"),
]


class FileDataset(_Model):
    """What every dataset read from a source has: where its files are and how to decode them."""

    source: str
    file_name: str | None = None  # required for file sources (local_files, sftp, gcs)
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



# ---- attribution (SPEC 5) -------------------------------------------------------------------
# The fields a match criterion may test: the touch (or conversion) event's columns under these
# names. `paid` is the channel table's flag of the touch's channel (touches only).
ATTRIBUTION_FIELDS: dict[str, FieldType] = {
    "channel": FieldType.String, "campaign": FieldType.String, "source": FieldType.String,
    "medium": FieldType.String, "term": FieldType.String, "content": FieldType.String,
    "type": FieldType.String, "context": FieldType.String, "value": FieldType.Decimal,
    "time": FieldType.Timestamp,
}
TOUCH_FIELDS: dict[str, FieldType] = {**ATTRIBUTION_FIELDS, "paid": FieldType.Bool}
UNATTRIBUTED = "(unattributed)"  # the channel of a conversion no touch of the model explains
ATTRIBUTION_MODEL_TYPES = ("first", "last", "spread", "position", "time_decay", "markov", "shapley")


class MatchCriterion(_Model):
    """``{field, op, value}``: one test of a touch (or conversion) field, in the rule language."""

    field: str
    op: str
    value: object


def _check_criteria(criteria: list[MatchCriterion], schema: dict[str, FieldType], where: str) -> None:
    from pipeline.rules import RuleError, condition  # the rule language imports this module

    for i, c in enumerate(criteria):
        try:
            condition(c.field, c.op, c.value, schema)
        except RuleError as e:
            raise _at(f"{where}[{i}].{'value' if e.key == 'formula' else e.key}", str(e)) from None


class AttributionChannel(_Model):
    """A row of the channel table: touches name their channel; models name it by id or name."""

    id: int = Field(ge=1)
    name: str = Field(min_length=1)
    paid: bool = False  # pay-per-click: what the "(PPC Only)" built-in models keep


class TouchpointSpec(_Model):
    """Which events are marketing touches: events of `type` matching every criterion."""

    type: str
    channel: str | None = None  # a fixed channel for these events (default: the event's own channel)
    matchCriteria: list[MatchCriterion] = Field(default_factory=list)

    @model_validator(mode="after")
    def _criteria(self) -> TouchpointSpec:
        _check_criteria(self.matchCriteria, ATTRIBUTION_FIELDS, "matchCriteria")
        return self


class ConversionSourceSpec(_Model):
    """What counts as a conversion, and its value.

    `from: events` (the only kind so far): events of `type` matching every criterion, worth the
    event's value (or the fixed `value`). A later kind `from: conversions` will name a defined
    conversion (SPEC 4); the rest of attribution only sees (conversion_id, customer, time, value).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    from_: Literal["events"] = Field(default="events", alias="from")
    type: str
    matchCriteria: list[MatchCriterion] = Field(default_factory=list)
    value: float | None = None  # a fixed value per conversion (default: the event's value; none: 0)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _identifier(v, "conversion name")

    @model_validator(mode="after")
    def _criteria(self) -> ConversionSourceSpec:
        _check_criteria(self.matchCriteria, ATTRIBUTION_FIELDS, "matchCriteria")
        return self


class AttributionModelSpec(_Model):
    """A custom attribution model (SPEC 5 plus the data-driven kinds); see the README's definitions."""

    name: str = Field(min_length=1)
    modelType: Literal["first", "last", "spread", "position", "time_decay", "markov", "shapley"]
    lookbackDays: int = Field(default=90, ge=1, le=365)
    firstWeight: float | None = Field(default=None, gt=0)   # spread only (default 1)
    lastWeight: float | None = Field(default=None, gt=0)    # spread only (default 1)
    firstShare: float | None = Field(default=None, ge=0, le=1)  # position only (default 0.4)
    lastShare: float | None = Field(default=None, ge=0, le=1)   # position only (default 0.4)
    halfLifeDays: float | None = Field(default=None, gt=0)  # time_decay only (default 7)
    maxExactChannels: int | None = Field(default=None, ge=1, le=16)  # shapley only (default 10)
    samples: int | None = Field(default=None, ge=1, le=100_000)      # shapley only (default 2000)
    seed: int | None = None                                           # shapley only (default 0)
    channelsMode: Literal["include", "exclude"] | None = None
    channels: list[int | str] = Field(default_factory=list)
    matchCriteria: list[MatchCriterion] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> AttributionModelSpec:
        only = {"firstWeight": "spread", "lastWeight": "spread", "firstShare": "position", "lastShare": "position",
                "halfLifeDays": "time_decay", "maxExactChannels": "shapley", "samples": "shapley", "seed": "shapley"}
        for key, kind in only.items():
            if getattr(self, key) is not None and self.modelType != kind:
                raise _at(key, f"{key} is only for modelType {kind}, not {self.modelType}")
        if self.modelType == "position" and (self.firstShare or 0.4) + (self.lastShare or 0.4) > 1 + 1e-12:
            raise _at("lastShare", "firstShare + lastShare must be at most 1 (the middle touches share the rest)")
        if self.modelType == "position" and (self.firstShare or 0.4) + (self.lastShare or 0.4) <= 0:
            raise _at("lastShare", "firstShare + lastShare must be more than 0")
        if self.channels and not self.channelsMode:
            raise _at("channelsMode", "channels needs channelsMode: include or exclude")
        if self.channelsMode and not self.channels:
            raise _at("channels", f"channelsMode {self.channelsMode} needs a non-empty list of channels (ids or names)")
        _check_criteria(self.matchCriteria, TOUCH_FIELDS, "matchCriteria")
        return self


class AttributionSpec(_Model):
    """Touchpoints, conversions, the channel table and the custom models (the built-ins are always there)."""

    channels: list[AttributionChannel] = Field(default_factory=list)
    touchpoints: list[TouchpointSpec] = Field(default_factory=list)
    conversions: list[ConversionSourceSpec] = Field(default_factory=list)
    models: list[AttributionModelSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> AttributionSpec:
        from pipeline.attribution import BUILTIN_NAMES  # the built-in models live with the computation

        ids = [c.id for c in self.channels]
        names = [c.name for c in self.channels]
        for i, c in enumerate(self.channels):
            if c.id in ids[:i]:
                raise _at(f"channels[{i}].id", f"the channel id {c.id} is used twice")
            if c.name in names[:i]:
                raise _at(f"channels[{i}].name", f"the channel name {c.name!r} is used twice")
            if c.name == UNATTRIBUTED:
                raise _at(f"channels[{i}].name", f"{UNATTRIBUTED!r} is reserved for conversions no touch explains")
        for i, t in enumerate(self.touchpoints):
            if t.channel is not None and t.channel not in names:
                raise _at(f"touchpoints[{i}].channel", f"unknown channel {t.channel!r}; channels: {names}")
        conv = [c.name for c in self.conversions]
        for i, n in enumerate(conv):
            if n in conv[:i]:
                raise _at(f"conversions[{i}].name", f"the conversion name {n!r} is used twice")
        seen: list[str] = []
        for i, m in enumerate(self.models):
            if m.name.casefold() in {b.casefold() for b in BUILTIN_NAMES}:
                raise _at(f"models[{i}].name", f"{m.name!r} is a built-in model: built-ins cannot be created, "
                          "changed or shadowed; choose another name")
            if m.name.casefold() in seen:
                raise _at(f"models[{i}].name", f"the model name {m.name!r} is used twice")
            seen.append(m.name.casefold())
            for j, ch in enumerate(m.channels):
                if not any(ch == c.id or ch == c.name for c in self.channels):
                    raise _at(f"models[{i}].channels[{j}]", f"unknown channel {ch!r}; the channel table has "
                              + ", ".join(f"{c.id}={c.name}" for c in self.channels))
        return self

    def channel_names(self, refs: list[int | str]) -> list[str]:
        """The names of channels given by id or name."""
        return [c.name for r in refs for c in self.channels if r == c.id or r == c.name]


# --- models (SPEC 2) ----------------------------------------------------------------------------

from pipeline.rules import Rule  # noqa: E402  (rules imports _Model and FieldType from above)

MODEL_TYPES = ("response", "churn", "recommender")
FEATURE_WINDOWS = (7, 30, 90, 365)


class LabelRule(Rule):
    """A qualifying event, in the rule language (pipeline/rules.py): ``{transaction, field, formula}``.

    ``transaction`` is a transaction or an event type; without ``field`` and ``formula`` any event
    of it qualifies, e.g. ``{transaction: completedOrder}`` or
    ``{transaction: pos, field: amount, formula: {gt: 100}}``. Checked and compiled by pipeline/ml/labels.py.
    """

    field: str | None = None
    formula: dict[str, Any] | None = None

    @field_validator("formula", mode="before")
    @classmethod
    def _mapping(cls, v: object) -> object:
        if isinstance(v, str):  # the form of the first models release: "gt 100"
            op, _, value = v.strip().partition(" ")
            raise ValueError(f"formula is a mapping {{op: value}} as in every rule, e.g. {{{op or 'gt'}: {value.strip() or 100}}}, "
                             f"not the string {v!r}")
        return v

    @model_validator(mode="after")
    def _together(self) -> LabelRule:
        if (self.field is None) != (self.formula is None):
            raise _at("formula" if self.field else "field", "give field and formula together (or neither: any event)")
        return self


class LabelSpec(_Model):
    """The label: qualifying events within ``horizon_days`` after the cut-off, or a customer list CSV."""

    rules: list[LabelRule] = Field(default_factory=list)
    horizon_days: int = Field(default=30, ge=1, le=730)
    customer_list: Path | None = None  # CSV: customer_id,label (1/0)

    @model_validator(mode="after")
    def _one_source(self) -> LabelSpec:
        if bool(self.rules) == bool(self.customer_list):
            raise _at("rules", "give either rules (qualifying events) or customer_list (a CSV of customer_id,label)")
        return self


class SplitSpec(_Model):
    train: float = Field(default=0.6, gt=0, lt=1)
    evaluation: float = Field(default=0.2, gt=0, lt=1)
    test: float = Field(default=0.2, gt=0, lt=1)

    @model_validator(mode="after")
    def _sum(self) -> SplitSpec:
        if abs(self.train + self.evaluation + self.test - 1) > 1e-9:
            raise _at("test", f"train + evaluation + test must be 1, not {self.train + self.evaluation + self.test:g}")
        return self


class ReferenceScores(_Model):
    """A CSV of customer scores to compare with (e.g. the demo's true propensities): AUC on the same test customers."""

    file: Path
    customer_column: str = "customuid"
    column: str


class ModelSpec(_Model):
    """One model (SPEC 2). Features are Nightjar's own (sql/features), computed strictly before the
    cut-off over windows that look back from it; a config can only narrow them (windows, exclude)."""

    name: str
    type: Literal["response", "churn", "recommender"]
    label: LabelSpec
    history_days: int = Field(default=365, ge=7, le=3650)
    min_history_days: int = Field(default=7, ge=1)
    windows: list[int] = Field(default_factory=lambda: list(FEATURE_WINDOWS), min_length=1)
    exclude: list[str] = Field(default_factory=list)
    top_attr_values: int = Field(default=10, ge=0, le=100)
    split: SplitSpec = SplitSpec()
    shuffle: bool = True
    objective: Literal["auc", "logloss", "precision_at_k"] = "auc"
    seed: int = 7
    k: int = Field(default=5, ge=1, le=100)
    item_field: str | None = None  # recommender: the field of the rule's transaction that names the item
    # Days between trainings (pipeline/ml/cadence.py): a night that is not due keeps the current version.
    retrain_every_days: int = Field(default=7, ge=1, le=365)
    num_boost_round: int = Field(default=200, ge=1, le=10000)
    early_stopping_rounds: int = Field(default=20, ge=1)
    params: dict[str, float | int | str | bool] = Field(default_factory=dict)
    reference_scores: ReferenceScores | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _identifier(v, "model name")

    @field_validator("windows")
    @classmethod
    def _windows(cls, v: list[int]) -> list[int]:
        if any(w < 1 for w in v):
            raise ValueError(f"windows are days looking back from the cut-off and must be at least 1: {v}")
        return sorted(set(v))

    @model_validator(mode="after")
    def _kind(self) -> ModelSpec:
        if max(self.windows) > self.history_days:
            raise _at("windows", f"a window ({max(self.windows)} days) may not exceed history_days ({self.history_days})")
        if self.type == "recommender":
            if not self.item_field:
                raise _at("item_field", "a recommender needs item_field (the field naming the item, e.g. product)")
            if not self.label.rules:
                raise _at("label.rules", "a recommender learns from rules (the events that take an item)")
        elif self.item_field:
            raise _at("item_field", "item_field is for recommenders only")
        return self


# --------------------------------------------------------------------------------------------
# experiments (SPEC 3, 4): variants, experiments, groups, conversions  (issue 6)
# --------------------------------------------------------------------------------------------

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
        from pipeline.rules import CUSTOMERS, RuleError, rule_condition

        schemas = {t.name: {f.name: f.type for f in t.fields} for t in self.transactions}

        def rules(path: str, items: list[Rule], customers: bool = False) -> None:
            for j, r in enumerate(items):
                try:
                    if customers and r.transaction == CUSTOMERS and self.customers is None:
                        raise RuleError("transaction", "a rule over customers needs customer data (the customers: section)")
                    rule_condition(r, schemas, customers=customers)
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
            rules(f"variants[{i}].rules", v.rules, customers=True)
        for i, e in enumerate(self.experiments):
            for j, name in enumerate(e.variants):
                if name not in variants:
                    raise _at(f"experiments[{i}].variants[{j}]", f"unknown variant {name!r} (declared: {variants})")
            rules(f"experiments[{i}].audience", e.audience, customers=True)
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
    attribution: AttributionSpec = Field(default_factory=AttributionSpec)
    models: list[ModelSpec] = Field(default_factory=list)
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
        for i, t in enumerate(self.transactions):  # remote sources (issue 3)
            src = self.source(t.source)
            if src.kind in FILE_SOURCE_KINDS and not t.file_name:
                raise _at(f"transactions[{i}].file_name", f"source {src.name!r} is a {src.kind} source: give file_name")
            if src.kind in ("bigquery", "mssql") and t.name not in src.queries:
                raise _at(f"transactions[{i}].source", f"source {src.name!r} has no query for {t.name!r} "
                          f"(add sources[].queries.{t.name})")
            mark = src.queries[t.name].watermark if src.kind in ("bigquery", "mssql") else None
            if mark and src.kind == "bigquery":
                raise _at(f"transactions[{i}].source", "watermark is for mssql sources; a BigQuery query uses @start/@end")
            if mark and mark not in [x.name for x in t.fields]:
                raise _at(f"transactions[{i}].source", f"the watermark {mark!r} of source {src.name!r} "
                          f"is not a field of {t.name!r}")
        if self.customers and self.customers.source not in names:
            raise _at("customers.source", f"unknown source {self.customers.source!r} (declared: {names})")
        if self.customers and not self.customers.file_name:
            raise _at("customers.file_name", "required key is missing")
        if self.customers and self.source(self.customers.source).kind != "local_files":
            raise _at("customers.source", "customer data is read from a local_files source (remote customer files: not yet)")
        for event_type, months in self.retention.items():
            if months < 1:
                raise _at(f"retention.{event_type}", f"keep at least 1 month, not {months}")
        tx_names = [t.name for t in self.transactions]
        for i, n in enumerate(tx_names):
            if n in tx_names[:i]:
                raise _at(f"transactions[{i}].name", f"the name {n!r} is used twice")
        self._check_experiments()
        return self

    @model_validator(mode="after")
    def _model_references(self) -> ProjectConfig:
        """Model names unique; label rules checked in the rule language against the transactions."""
        from pipeline.ml.labels import check  # it imports this module

        seen: list[str] = []
        for i, m in enumerate(self.models):
            if m.name in seen:
                raise _at(f"models[{i}].name", f"the name {m.name!r} is used twice")
            seen.append(m.name)
            if problem := check(self, i):
                raise _at(*problem)
        for i, e in enumerate(self.experiments):
            if e.model and e.model not in seen:
                raise _at(f"experiments[{i}].model", f"unknown model {e.model!r} (declared: {seen}); its score comes "
                          "from predictions")
        return self

    def model(self, name: str) -> ModelSpec:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(f"no model named {name!r} (declared: {[m.name for m in self.models]})")

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
            loc = err["loc"]
            if len(loc) > 2 and loc[0] == "sources" and loc[2] in SOURCE_KINDS:  # the union's tag
                loc = loc[:2] + loc[3:]
            if err["type"] == "union_tag_invalid":
                loc, msg = (*loc, "kind"), f"unknown source kind; use one of {', '.join(SOURCE_KINDS)}"
            path = key_path(loc)
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
