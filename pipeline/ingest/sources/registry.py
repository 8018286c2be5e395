"""The registry of source kinds: each kind module of this package registers one ``SourceKind``.

A kind is everything Nightjar needs to know of one ``sources[].kind``: its settings model (an
entry of the config's ``sources`` union), whether its datasets are dated files, its Dagster
resource, how an asset run gets the files of its days, how a sensor lists new files, and the
checks of its datasets. Importing :mod:`pipeline.ingest.sources` imports every kind module, so
the registry is complete; the kinds keep the order in which they register (the order of the
imports in the package's ``__init__``), which is the order the config errors list them in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import field_validator

from pipeline.core.settings import ProjectBase, Settings, identifier
from pipeline.ingest.sources.files import LandedFile, RemoteFile, SourceError

if TYPE_CHECKING:
    import dagster as dg


class SourceSettings(Settings):
    """What the settings of every source kind have: a name (and a ``kind``, the union's tag, that
    each kind's model declares as a ``Literal``)."""

    name: str
    if TYPE_CHECKING:  # declared by each kind's model, in its own place among the fields
        kind: str
        date_format: str

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return identifier(v, "source name")


class Dataset(Protocol):
    """What a source needs to know of the dataset it fetches (a ``TransactionSpec``)."""

    @property
    def name(self) -> str: ...

    @property
    def file_name(self) -> str | None: ...

    @property
    def table(self) -> str: ...


# The inputs of one asset run: per day, the landed file or the reason there is none.
Inputs = dict[dt.date, LandedFile | str]
# (context, resource, source settings, dataset, days, temporary folder) -> inputs
Fetch = Callable[[Any, Any, Any, Dataset, list[dt.date], Path], Inputs]


@dataclass(frozen=True)
class SourceKind:
    """One kind of source.

    ``resource`` builds the Dagster resource of a source from the config (None: the source needs
    none, it is read from the machine's own folders); ``fetch`` gets the files of an asset run's
    days through that resource (``fetch_range``: the files of a kind whose data is not by day, loaded
    as range files); ``list_dated`` lists the dated files of a dataset for a sensor
    (file kinds only); ``check_transaction`` returns what is wrong with a transaction read from
    the source (its name and field names), or None; ``check_remote`` is what ``nightjar
    validate`` tries against the source itself: (errors, notes).
    """

    name: str
    settings: type[SourceSettings]
    file_based: bool = False
    resource: Callable[[ProjectBase, Any], dg.ConfigurableResource] | None = None
    fetch: Fetch | None = None
    list_dated: Callable[[Any, str, str], list[RemoteFile]] | None = None
    check_transaction: Callable[[Any, str, list[str]], str | None] | None = None
    check_remote: Callable[[Any, ProjectBase, dt.date | None], tuple[list[str], list[str]]] | None = None
    # a kind whose data is not by day (an API): (context, resource, source settings, dataset,
    # temporary folder) -> files loaded as range files, each row into its time_field day
    fetch_range: Callable[[Any, Any, Any, Dataset, Path], list[LandedFile]] | None = None
    # a file kind's range files (`files: range`), same arguments: downloaded, oldest first
    fetch_range_files: Callable[[Any, Any, Any, Dataset, Path], list[LandedFile]] | None = None

    @property
    def remote(self) -> bool:
        """Reached through a Dagster resource (not a folder of this machine)."""
        return self.resource is not None


_KINDS: dict[str, SourceKind] = {}


def register(kind: SourceKind) -> SourceKind:
    """Add a kind (a kind module calls this once, when it is imported)."""
    if kind.name in _KINDS:
        raise ValueError(f"source kind {kind.name!r} is registered twice")
    _KINDS[kind.name] = kind
    return kind


def source_kinds() -> list[SourceKind]:
    """Every registered kind, in the order they registered."""
    return list(_KINDS.values())


def source_kind(name: str) -> SourceKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise SourceError(f"unknown source kind {name!r}; use one of {', '.join(_KINDS)}") from None


def dataset_file_name(source: SourceSettings, dataset: Dataset) -> str:
    """The file name of a dataset read from a file source (the config makes sure it has one)."""
    if not dataset.file_name:
        raise SourceError(f"source {source.name!r} is a {source.kind} source: {dataset.name} needs file_name")
    return dataset.file_name
