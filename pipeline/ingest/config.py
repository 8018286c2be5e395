"""The ingestion domain's settings: sources, the datasets read from them (transactions, customers), checks."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal, Union

from pydantic import Field, field_validator, model_validator

import pipeline.ingest.sources  # noqa: F401 - importing the package registers every source kind
from pipeline.core.catalog import IdentifierKind
from pipeline.core.formats import FormatError, check_format
from pipeline.core.settings import FieldType, ProjectBase, Settings, at, identifier
from pipeline.ingest.sources.registry import SourceSettings, source_kind, source_kinds

# Columns Nightjar adds to every table it loads; a declared field may not use these names.
SYSTEM_COLUMNS = ("_load_id", "_partition_date", "_row_number", "_first_seen_at", "_updated_at")


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


class FieldSpec(Settings):
    name: str
    type: FieldType
    format: str | None = None
    required: bool = False
    description: str | None = None
    # the decimals a Decimal keeps (more are rounded); 14 digits before the point at any scale
    scale: int | None = Field(default=None, ge=0, le=18)
    # where a JSON-lines value is, inside objects: `ecommerce.value`
    path: str | None = None

    @field_validator("path")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        if v is not None and (any(not p for p in v.split(".")) or '"' in v):
            raise ValueError(f"path {v!r} must be keys separated by dots, e.g. ecommerce.value")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        identifier(v, "field name")
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
            raise at("format", f"format is only for Date and Timestamp fields, not {self.type.value}")
        if self.scale is not None and self.type != FieldType.Decimal:
            raise at("scale", f"scale is only for Decimal fields, not {self.type.value}")
        return self


# The `sources` entries: one settings model per registered kind (pipeline/ingest/sources/), told
# apart by `kind`. Type checkers see the base every kind's model extends.
SOURCE_KINDS = tuple(k.name for k in source_kinds())
FILE_SOURCE_KINDS = tuple(k.name for k in source_kinds() if k.file_based)
if TYPE_CHECKING:
    Source = SourceSettings
else:
    Source = Annotated[Union[tuple(k.settings for k in source_kinds())], Field(discriminator="kind")]  # noqa: UP007


class Limits(Settings):
    """What one file of a dataset may hold, checked on a streamed pass over it (a ``.gz`` decompressed
    as it goes) before any reader opens it: a file over a limit fails its load and is not read."""

    # a record (a line) longer than this is rejected with its row number (`row: longer than N bytes`)
    max_record_bytes: int = Field(default=2_000_000, ge=1024, le=256 << 20)
    # the bytes of the file once decompressed
    max_uncompressed_bytes: int = Field(default=10_000_000_000, ge=1)
    # the lines of the file (header included)
    max_rows: int = Field(default=50_000_000, ge=1)


class FileDataset(Settings):
    """What every dataset read from a source has: where its files are and how to decode them."""

    source: str
    file_name: str | None = None  # required for file sources (local_files, sftp, gcs)
    encoding: Literal["utf-8", "latin-1"] = "utf-8"
    limits: Limits = Limits()


WHITESPACE = "whitespace"


class CsvDialect(Settings):
    """How a dataset's delimited files are written; the defaults are a comma CSV with a header.

    ``delimiter`` is one character, ``\\t`` (a tab), or ``whitespace`` (runs of spaces and tabs,
    no quoting); ``quote`` and ``escape`` are one character or empty (none; ``escape`` defaults to
    the quote, i.e. a doubled quote); ``header: false`` needs ``columns``, the file's column
    names in order; ``skip_rows`` lines come before the header (or the first record);
    ``null_values`` are values that mean missing; ``decimal_separator: ','`` reads ``3,50``.
    """

    delimiter: str = ","
    quote: str = '"'
    escape: str | None = None
    header: bool = True
    columns: list[str] | None = None
    skip_rows: int = Field(default=0, ge=0)
    null_values: list[str] = Field(default_factory=list)
    decimal_separator: Literal[".", ","] = "."

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, v: str) -> str:
        v = "\t" if v in ("\\t", "tab") else v
        if v != WHITESPACE and len(v) != 1:
            raise ValueError(f"delimiter {v!r} must be one character, '\\t' or 'whitespace'")
        if v in ("\n", "\r"):
            raise ValueError("delimiter cannot be a line end")
        return v

    @field_validator("quote", "escape")
    @classmethod
    def _one_char(cls, v: str | None) -> str | None:
        if v is not None and len(v) > 1:
            raise ValueError(f"{v!r} must be one character, or empty for none")
        return v

    @model_validator(mode="after")
    def _columns_without_header(self) -> CsvDialect:
        if not self.header and not self.columns:
            raise at("columns", "header: false needs columns, the file's column names in order")
        if self.header and self.columns:
            raise at("columns", "columns names the columns of a file without a header: set header: false")
        if self.columns:
            lower = [c.lower() for c in self.columns]
            dupes = sorted({c for c in self.columns if lower.count(c.lower()) > 1})
            if dupes:
                raise at("columns", f"column names must be unique; repeated: {', '.join(dupes)}")
        return self

    @property
    def escape_char(self) -> str:
        return self.quote if self.escape is None else self.escape


STANDARD_EVENT_TYPES = (
    "completedOrder",
    "viewedPage",
    "viewedProduct",
    "addedProduct",
    "abandonedCart",
    "campaignSent",
    "campaignOpened",
    "campaignLinkClicked",
)


class UtmFields(Settings):
    """Which fields of a transaction hold the UTM tags."""

    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None


class EventSpec(Settings):
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
            raise at("type_field", "give either type or type_field, not both")
        if self.type_map and not self.type_field:
            raise at("type_map", "type_map needs type_field")
        return self

    def fields_used(self) -> list[tuple[str, str]]:
        """(key path below `event`, field name) of every field the mapping names."""
        out = [(k, getattr(self, k)) for k in ("type_field", "value", "channel") if getattr(self, k)]
        out += [(f"utm.{k}", v) for k, v in self.utm.model_dump().items() if v]
        return out


class TransactionSpec(FileDataset, CsvDialect):
    name: str
    customer_field: str
    # Which identifier(s) customer_field holds; several are tried in identity.match_on order.
    customer_key: IdentifierKind | list[IdentifierKind] = "customuid"
    time_field: str
    context: Context = Context.OTHER
    event: EventSpec = EventSpec()
    fields: list[FieldSpec] = Field(min_length=1)
    # `range`: a file may hold many days; each row lands in the partition of its time_field day
    files: Literal["daily", "range"] = "daily"
    # what loading a range file replaces: exactly the days it covers, or (`none`) nothing: its rows
    # are upserted by `key`
    replaces: Literal["covered_days", "none"] = "covered_days"
    key: list[str] = Field(default_factory=list)
    # a day without a file: a FAILED load (`fail`) or a PROCESSED load of 0 rows (`empty`)
    missing_file: Literal["fail", "empty"] = "fail"
    # a column of a file that is not a declared field: the load fails (`freeze`), it is added to the
    # table as a String (`evolve`), or left out (`discard`); recorded in `schema_changes`
    new_columns: Literal["freeze", "evolve", "discard"] = "freeze"
    # JSON lines: how many levels of objects a field name `parent__child` reaches into
    flatten_depth: int = Field(default=1, ge=0)

    @property
    def reads_new_json_keys(self) -> bool:
        """Whether the keys of a JSON line that no field reads follow ``new_columns``: only when the
        dataset sets it (by default they are not read: an API's records carry many)."""
        return "new_columns" in self.model_fields_set

    def json_keys_read(self) -> list[str]:
        """The top-level keys of a JSON line that the fields read: each name, and the first key of
        each path inside objects."""
        paths = [x.path.split(".") if x.path else x.name.split("__", self.flatten_depth) for x in self.fields]
        return list(dict.fromkeys([x.name for x in self.fields] + [p[0] for p in paths]))

    def list_fields(self) -> list[str]:
        """The fields that take a JSON array of values (String fields: the values joined by ', ')."""
        return [x.name for x in self.fields if x.type == FieldType.String]

    def json_paths(self) -> dict[str, str]:
        """The JSON path inside objects of each field that has one: its ``path``, or its name split
        at ``__`` (at most ``flatten_depth`` times): ``a__b`` is ``$."a"."b"``."""
        out = {}
        for x in self.fields:
            parts = x.path.split(".") if x.path else x.name.split("__", self.flatten_depth)
            if len(parts) > 1 and all(parts):
                out[x.name] = "$" + "".join(f'."{p}"' for p in parts)
        return out

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return identifier(v, "transaction name")

    @model_validator(mode="after")
    def _fields(self) -> TransactionSpec:
        names = [f.name for f in self.fields]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise at("fields", f"field names must be unique; repeated: {', '.join(dupes)}")
        if self.customer_field not in names:
            raise at(
                "customer_field", f"customer_field {self.customer_field!r} is not one of the fields {names}"
            )
        if self.columns:
            unknown = [c for c in self.columns if c not in names]
            absent = [n for n in names if n not in self.columns]
            if unknown or absent:
                raise at(
                    "columns",
                    f"columns must name each declared field once (not fields: {unknown}; "
                    f"fields not named: {absent})",
                )
        if self.replaces == "none" and not self.key:
            raise at(
                "key", "replaces: none upserts rows by their key: give key, the field(s) that identify a row"
            )
        if self.key and self.replaces != "none":
            raise at("key", "key is for replaces: none (rows upserted by key)")
        for k in self.key:
            if k not in names:
                raise at("key", f"{k!r} is not one of the fields {names}")
        if self.time_field not in names:
            raise at("time_field", f"time_field {self.time_field!r} is not one of the fields {names}")
        time_type = self.field(self.time_field).type
        if time_type not in (FieldType.Date, FieldType.Timestamp):
            raise at(
                "time_field",
                f"time_field {self.time_field!r} must be a Date or Timestamp field, not {time_type.value}",
            )
        for key, name in self.event.fields_used():
            if name not in names:
                raise at(f"event.{key}", f"{name!r} is not one of the fields {names}")
        if self.event.value and self.field(self.event.value).type not in (
            FieldType.Decimal,
            FieldType.Float,
            FieldType.Int,
        ):
            raise at("event.value", f"the value field {self.event.value!r} must be a number field")
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
        return f.required or f.name in (self.customer_field, self.time_field) or f.name in self.key


class CustomersSpec(FileDataset):
    mode: Literal["create", "update", "overwrite"] = "update"


class ChecksSpec(Settings):
    max_reject_rate: float = Field(default=0.02, ge=0, le=1)
    # Above this share of rejected rows a load's check is an ERROR and blocks the assets downstream.
    block_reject_rate: float = Field(default=0.9, ge=0, le=1)

    @model_validator(mode="after")
    def _block_above_warn(self) -> ChecksSpec:
        if self.block_reject_rate < self.max_reject_rate:
            raise ValueError(
                f"block_reject_rate ({self.block_reject_rate}) must be at least max_reject_rate "
                f"({self.max_reject_rate})"
            )
        return self


class IngestConfig(ProjectBase):
    """The project's sources and datasets, cross-checked against each other."""

    checks: ChecksSpec = ChecksSpec()
    sources: list[Source] = Field(default_factory=list)
    customers: CustomersSpec | None = None
    transactions: list[TransactionSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_datasets(self) -> IngestConfig:
        names = [s.name for s in self.sources]
        for i, n in enumerate(names):
            if n in names[:i]:
                raise at(f"sources[{i}].name", f"the name {n!r} is used twice")
        for i, t in enumerate(self.transactions):
            if t.source not in names:
                raise at(f"transactions[{i}].source", f"unknown source {t.source!r} (declared: {names})")
        for i, t in enumerate(self.transactions):
            src = self.source(t.source)
            kind = source_kind(src.kind)
            if kind.file_based and not t.file_name:
                raise at(
                    f"transactions[{i}].file_name",
                    f"source {src.name!r} is a {src.kind} source: give file_name",
                )
            problem = (
                kind.check_transaction(src, t.name, [x.name for x in t.fields])
                if kind.check_transaction
                else None
            )
            if problem:
                raise at(f"transactions[{i}].source", problem)
            if kind.fetch_range and t.files != "range":
                raise at(
                    f"transactions[{i}].files",
                    f"a {src.kind} source's records span days: set files: range "
                    "(and replaces: none with key, to upsert records seen again)",
                )
            if t.files == "range" and kind.remote and not (kind.fetch_range or kind.fetch_range_files):
                raise at(
                    f"transactions[{i}].files",
                    f"range files are read from local_files, sftp, gcs or rest sources, not {src.kind}",
                )
        if self.customers and self.customers.source not in names:
            raise at("customers.source", f"unknown source {self.customers.source!r} (declared: {names})")
        if self.customers and not self.customers.file_name:
            raise at("customers.file_name", "required key is missing")
        if self.customers and source_kind(self.source(self.customers.source).kind).remote:
            raise at(
                "customers.source",
                "customer data is read from a local_files source (remote customer files: not yet)",
            )
        tx_names = [t.name for t in self.transactions]
        for i, n in enumerate(tx_names):
            if n in tx_names[:i]:
                raise at(f"transactions[{i}].name", f"the name {n!r} is used twice")
        return self

    def source(self, name: str) -> Source:
        return next(s for s in self.sources if s.name == name)

    def transaction(self, name: str) -> TransactionSpec:
        for t in self.transactions:
            if t.name == name:
                return t
        raise KeyError(f"no transaction named {name!r} (declared: {[t.name for t in self.transactions]})")
