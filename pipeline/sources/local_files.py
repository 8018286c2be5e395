"""Local files source: one file per dataset and day in a folder, named <file_name>_<date>.<ext>."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

# Extensions Nightjar reads, in the order they are looked for.
EXTENSIONS = ("csv", "csv.gz", "jsonl", "jsonl.gz", "ndjson", "ndjson.gz", "json", "json.gz")


class SourceError(RuntimeError):
    """A source cannot hand over the file it should."""


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
        """csv, json or jsonl (ndjson counts as jsonl), whatever the compression."""
        base = self.name.removesuffix(".gz").rsplit(".", 1)[-1]
        return "jsonl" if base == "ndjson" else base

    @property
    def identity(self) -> str:
        """What a sensor's run key and the file cursor remember: name, size and mtime."""
        return f"{self.name}:{self.size}:{int(self.mtime)}"


def landed_file(path: Path, day: dt.date) -> LandedFile:
    st = path.stat()
    return LandedFile(path=path, day=day, size=st.st_size, mtime=st.st_mtime)


def find_file(folder: Path, file_name: str, day: dt.date, date_format: str = "%Y%m%d") -> LandedFile | None:
    """The file of ``file_name`` for ``day``, or None; two files for the same day are an error."""
    stem = f"{file_name}_{day.strftime(date_format)}"
    found = [folder / f"{stem}.{ext}" for ext in EXTENSIONS if (folder / f"{stem}.{ext}").is_file()]
    if len(found) > 1:
        raise SourceError(f"{len(found)} files for {file_name} on {day}: {[p.name for p in found]}; keep one")
    return landed_file(found[0], day) if found else None


def list_files(folder: Path, file_name: str, date_format: str = "%Y%m%d") -> list[LandedFile]:
    """Every file of ``file_name`` in ``folder`` whose name carries a readable date, oldest first."""
    if not folder.is_dir():
        return []
    out = []
    for path in folder.glob(f"{file_name}_*"):
        rest = path.name[len(file_name) + 1 :]
        for ext in EXTENSIONS:
            if rest.endswith("." + ext):
                try:
                    day = dt.datetime.strptime(rest[: -len(ext) - 1], date_format).date()
                except ValueError:
                    break
                out.append(landed_file(path, day))
                break
    return sorted(out, key=lambda f: (f.day, f.name))
