"""Local files source: one file per dataset and day in a folder, named <file_name>_<date>.<ext>.

The folder is on this machine: the source needs no Dagster resource, and its sensor lists the
folder itself.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import field_validator

from pipeline.ingest.sources.files import (
    LandedFile,
    NoFile,
    SourceError,
    day_in_name,
    extension,
    is_range_file,
)
from pipeline.ingest.sources.registry import Inputs, SourceKind, SourceSettings, register


class LocalFilesSource(SourceSettings):
    kind: Literal["local_files"]
    folder: Path
    date_format: str = "%Y%m%d"

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, v: str) -> str:
        if "%" not in v:
            raise ValueError(f"date_format {v!r} must be a strftime pattern such as %Y%m%d")
        return v


def landed_file(path: Path, day: dt.date) -> LandedFile:
    st = path.stat()
    return LandedFile(path=path, day=day, size=st.st_size, mtime=st.st_mtime)


def inside(folder: Path, path: Path) -> bool:
    """The path, links followed, is in the folder (a link out of it is never read)."""
    return path.resolve().is_relative_to(folder.resolve())


def _sort_files(
    folder: Path, file_name: str, date_format: str
) -> tuple[list[tuple[dt.date, Path]], list[str]]:
    """The files of ``file_name`` with a strict ``<file_name>_<date>.<ext>`` name, and why each other
    file named like one is left out (one line each; a link's target is never named or read)."""
    if not folder.is_dir():
        return [], []
    out, stray = [], []
    for path in sorted(folder.glob(f"{file_name}_*")):
        ext = extension(path.name)
        if ext is None:
            continue
        name = ascii(path.name)[1:-1]  # control characters shown escaped
        if not inside(folder, path):
            stray.append(f"{name}: a link to a file outside the landing folder: refused, not read")
            continue
        if not path.is_file():
            continue
        day = day_in_name(path.name, file_name, date_format)
        if day is None or name != path.name:
            example = dt.date(2026, 1, 31).strftime(date_format)
            stray.append(
                f"{name}: not named {file_name}_<date>.{ext} with a full date in {date_format} "
                f"(e.g. {file_name}_{example}.{ext}): ignored"
            )
            continue
        out.append((day, path))
    return out, stray


def _dated_files(folder: Path, file_name: str, date_format: str) -> list[tuple[dt.date, Path]]:
    return _sort_files(folder, file_name, date_format)[0]


def stray_files(folder: Path, file_name: str, date_format: str = "%Y%m%d") -> list[str]:
    """Why each file named like one of ``file_name``'s is not read (a bad date, a link out of the folder)."""
    return _sort_files(folder, file_name, date_format)[1]


def find_file(folder: Path, file_name: str, day: dt.date, date_format: str = "%Y%m%d") -> LandedFile | None:
    """The file of ``file_name`` for ``day``, or None; two files for the same day are an error."""
    return _the_file(file_name, day, [p for d, p in _dated_files(folder, file_name, date_format) if d == day])


def _the_file(file_name: str, day: dt.date, found: list[Path]) -> LandedFile | None:
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


def usable_files(
    folder: Path, file_name: str, date_format: str = "%Y%m%d"
) -> tuple[list[LandedFile], list[str]]:
    """The files of ``file_name`` to read, oldest first, and why each other file named like one is
    left out (a stray name, a link out of the folder, or one of two files for a day: that day is
    skipped, as which file holds it is unclear). Nothing here blocks the other files."""
    found, stray = _sort_files(folder, file_name, date_format)
    days = [d for d, _ in found]
    twice = {d for d in days if days.count(d) > 1}
    stray += [
        f"{p.name}: one of two or more files for {d}: the day is skipped; keep one"
        for d, p in found
        if d in twice
    ]
    return [landed_file(p, d) for d, p in sorted(found) if d not in twice], stray


def find_inputs(folder: Path, file_name: str, days: list[dt.date], date_format: str) -> Inputs:
    """The file of each day, or the reason there is none (no file, or two for the day): the folder
    is listed once for all the days."""
    inputs: Inputs = {}
    found, stray = _sort_files(folder, file_name, date_format)
    of_day: dict[dt.date, list[Path]] = {}
    for d, p in found:
        of_day.setdefault(d, []).append(p)
    ignored = (
        f" (ignored: {'; '.join(stray[:3])})" if stray else ""
    )  # why a file that looks like it is not it
    for day in days:
        try:
            f = _the_file(file_name, day, of_day.get(day, []))
        except SourceError as e:
            inputs[day] = str(e)
            continue
        inputs[day] = f or NoFile(f"no file {file_name}_{day.strftime(date_format)}.* in {folder}{ignored}")
    return inputs


def range_files(folder: Path, file_name: str) -> list[LandedFile]:
    """The files of a dataset whose files hold many days: ``<file_name>.<ext>`` and
    ``<file_name>_<anything>.<ext>``, oldest first (by modification time, then name), so a later
    file's days replace an earlier one's."""
    if not folder.is_dir():
        return []
    found = [
        p
        for p in folder.glob(f"{file_name}*")
        if inside(folder, p) and p.is_file() and is_range_file(p.name, file_name)
    ]
    files = [landed_file(p, dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC).date()) for p in found]
    return sorted(files, key=lambda f: (f.mtime, f.name))


KIND = register(SourceKind(name="local_files", settings=LocalFilesSource, file_based=True))
