"""Local files source: one file per dataset and day in a folder, named <file_name>_<date>.<ext>."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

# Extensions Nightjar reads (in any letter case), in the order they are looked for.
EXTENSIONS = ("csv", "csv.gz", "jsonl", "jsonl.gz", "ndjson", "ndjson.gz", "json", "json.gz", "parquet")


class SourceError(RuntimeError):
    """A source cannot hand over the file it should."""


def extension(name: str) -> str | None:
    """The known extension of a file name, lower-cased, or None."""
    lower = name.lower()
    return next((ext for ext in sorted(EXTENSIONS, key=len, reverse=True) if lower.endswith("." + ext)), None)


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
        """csv, json, jsonl (ndjson counts as jsonl) or parquet, whatever the compression and letter case."""
        ext = extension(self.name)
        if ext is None:
            raise SourceError(
                f"{self.name}: unknown file type; use one of {', '.join('.' + e for e in EXTENSIONS)}"
            )
        base = ext.removesuffix(".gz")
        return "jsonl" if base == "ndjson" else base

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


def landed_file(path: Path, day: dt.date) -> LandedFile:
    st = path.stat()
    return LandedFile(path=path, day=day, size=st.st_size, mtime=st.st_mtime)


def _dated_files(folder: Path, file_name: str, date_format: str) -> list[tuple[dt.date, Path]]:
    if not folder.is_dir():
        return []
    out = []
    for path in folder.glob(f"{file_name}_*"):
        ext = extension(path.name)
        if ext is None or not path.is_file():
            continue
        try:
            day = dt.datetime.strptime(path.name[len(file_name) + 1 : -len(ext) - 1], date_format).date()
        except ValueError:
            continue
        out.append((day, path))
    return out


def find_file(folder: Path, file_name: str, day: dt.date, date_format: str = "%Y%m%d") -> LandedFile | None:
    """The file of ``file_name`` for ``day``, or None; two files for the same day are an error."""
    found = [p for d, p in _dated_files(folder, file_name, date_format) if d == day]
    if len(found) > 1:
        raise SourceError(
            f"{len(found)} files for {file_name} on {day}: {sorted(p.name for p in found)}; keep one"
        )
    return landed_file(found[0], day) if found else None


def list_files(folder: Path, file_name: str, date_format: str = "%Y%m%d") -> list[LandedFile]:
    """Every file of ``file_name`` in ``folder`` whose name carries a readable date, oldest first.

    Two files for the same day are an error (which one is the data set's state is unclear).
    """
    files = sorted(_dated_files(folder, file_name, date_format))
    days = [d for d, _ in files]
    twice = sorted({d for d in days if days.count(d) > 1})
    if twice:
        raise SourceError(
            f"two or more {file_name} files for the day(s) {', '.join(map(str, twice))}; keep one per day"
        )
    return [landed_file(p, d) for d, p in files]
