"""What every source hands over: a landed file (a local copy of one day's data), and the error a
source raises when it cannot; a file on a remote source before it is downloaded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

# Extensions Nightjar reads (in any letter case), in the order they are looked for.
EXTENSIONS = (
    "csv", "csv.gz", "tsv", "tsv.gz", "txt", "txt.gz",
    "jsonl", "jsonl.gz", "ndjson", "ndjson.gz", "json", "json.gz", "parquet",
)  # fmt: skip
DELIMITED = ("csv", "tsv", "txt")  # read as delimited text in the dataset's dialect


class SourceError(RuntimeError):
    """A source cannot hand over the file it should."""


class NoFile(str):
    """Why a day has no input, when the reason is that the source has no file for it (the dataset's
    ``missing_file`` decides what that means); other reasons are plain strings."""


def extension(name: str) -> str | None:
    """The known extension of a file name, lower-cased, or None."""
    lower = name.lower()
    return next((ext for ext in sorted(EXTENSIONS, key=len, reverse=True) if lower.endswith("." + ext)), None)


def strict_day(text: str, date_format: str) -> dt.date | None:
    """The day ``text`` writes in ``date_format`` exactly (``2026115`` is not 5 November for
    ``%Y%m%d``: the day written back must give the same text), or None."""
    try:
        day = dt.datetime.strptime(text, date_format).date()
    except ValueError:
        return None
    return day if day.strftime(date_format).lower() == text.lower() else None


def day_in_name(name: str, file_name: str, date_format: str) -> dt.date | None:
    """The day of a file named ``<file_name>_<date>.<ext>`` (the date in full in ``date_format``, a
    known extension), or None."""
    ext = extension(name)
    if ext is None or not name.startswith(f"{file_name}_"):
        return None
    return strict_day(name[len(file_name) + 1 : -len(ext) - 1], date_format)


def is_range_file(name: str, file_name: str) -> bool:
    """Whether ``name`` is a range file of the dataset ``file_name``: ``<file_name>.<ext>`` or
    ``<file_name>_<anything>.<ext>`` with an extension Nightjar reads."""
    ext = extension(name)
    return ext is not None and (name == f"{file_name}.{ext}" or name.startswith(f"{file_name}_"))


@dataclass(frozen=True)
class LandedFile:
    """A file found in a source folder; size + mtime tell whether it changed since it was loaded."""

    path: Path
    day: dt.date
    size: int
    mtime: float

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def format(self) -> str:
        """csv (also .tsv and .txt: delimited text), json, jsonl (ndjson counts as jsonl) or parquet,
        whatever the compression and letter case."""
        ext = extension(self.name)
        if ext is None:
            raise SourceError(
                f"{self.name}: unknown file type; use one of {', '.join('.' + e for e in EXTENSIONS)}"
            )
        base = ext.removesuffix(".gz")
        return "jsonl" if base == "ndjson" else "csv" if base in DELIMITED else base

    @property
    def version(self) -> tuple[str, int, int]:
        """What tells one version of a file from another: name, size and whole seconds of mtime."""
        return version_of(self.name, self.size, self.mtime)

    @property
    def identity(self) -> str:
        """The version as text, for sensor cursors and run keys."""
        return ":".join(str(v) for v in self.version)


def version_of(name: str, size: int, mtime: float) -> tuple[str, int, int]:
    return (name, int(size), int(mtime))


@dataclass(frozen=True)
class RemoteFile:
    """A file (object) on a remote source; ``version`` tells one version from the next
    (SFTP: size + mtime, GCS: generation)."""

    name: str
    day: dt.date
    size: int
    mtime: float
    version: str

    @property
    def identity(self) -> str:
        return f"{self.name}:{self.version}"

    def landed(self, path: Path) -> LandedFile:
        """The downloaded copy, carrying the remote size and mtime (what `loads` remembers)."""
        return LandedFile(path=path, day=self.day, size=self.size, mtime=self.mtime)
