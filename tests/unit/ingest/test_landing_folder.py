"""Landing folders: strict `<file_name>_<date>` names, links out of the folder refused without being
read, stray files reported and skipped, NUL bytes removed (pipeline/ingest/sources/local_files.py,
pipeline/ingest/limits.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.ingest.sources.files import NoFile, strict_day
from pipeline.ingest.sources.local_files import find_inputs, list_files, range_files, stray_files
from pipeline.ingest.write import LOADED
from tests.unit.ingest.malformed_corpus import POS_HEADER, World, check_load

D = dt.date(2026, 1, 5)


@pytest.mark.parametrize(
    ("text", "fmt", "day"),
    [
        ("20260105", "%Y%m%d", D),
        ("2026115", "%Y%m%d", None),  # strptime reads 5 November; the name is not a full date
        ("202611 5", "%Y%m%d", None),
        ("20261305", "%Y%m%d", None),
        ("2026-01-05", "%Y-%m-%d", D),
        ("2026-1-5", "%Y-%m-%d", None),
        ("05jan2026", "%d%b%Y", D),
    ],
)
def test_a_date_in_a_name_must_be_written_in_full(text: str, fmt: str, day: dt.date | None) -> None:
    assert strict_day(text, fmt) == day


def test_a_stray_name_is_reported_and_the_good_files_are_still_found(tmp_path: Path) -> None:
    (tmp_path / "trans_pos_20260105.csv").write_text("x")
    (tmp_path / "trans_pos_2026115.csv").write_text("x")
    (tmp_path / "trans_pos_20260106\x07.csv").write_text("x")
    assert [f.name for f in list_files(tmp_path, "trans_pos")] == ["trans_pos_20260105.csv"]
    stray = stray_files(tmp_path, "trans_pos")
    assert len(stray) == 2 and all("ignored" in s and "\n" not in s and "\x07" not in s for s in stray)
    assert any(s.startswith("trans_pos_2026115.csv: not named trans_pos_<date>.csv") for s in stray)
    why = find_inputs(tmp_path, "trans_pos", [dt.date(2026, 11, 5)], "%Y%m%d")[dt.date(2026, 11, 5)]
    assert isinstance(why, str) and "no file trans_pos_20261105.*" in why and "trans_pos_2026115.csv" in why


def test_a_link_out_of_the_landing_folder_is_refused_and_never_read(tmp_path: Path) -> None:
    folder, outside = tmp_path / "files", tmp_path / "secret.csv"
    folder.mkdir()
    outside.write_text("SECRET-LINE-OF-ANOTHER-FILE\n")
    (folder / "trans_pos_20260105.csv").symlink_to(outside)
    (folder / "trans_pos.csv").symlink_to(outside)  # a range file's name
    (folder / "real_20260105.csv").write_text("a\n")
    (folder / "trans_pos_20260106.csv").symlink_to(folder / "real_20260105.csv")  # inside: read
    assert [f.name for f in list_files(folder, "trans_pos")] == ["trans_pos_20260106.csv"]
    assert [f.name for f in range_files(folder, "trans_pos")] == ["trans_pos_20260106.csv"]
    why = find_inputs(folder, "trans_pos", [D], "%Y%m%d")[D]
    assert isinstance(why, str)
    assert "trans_pos_20260105.csv: a link to a file outside the landing folder: refused" in why
    assert "SECRET" not in why and str(outside) not in why


def test_nul_bytes_are_removed_from_values(world: World) -> None:
    r = world.load_tx(
        "pos", "csv", POS_HEADER + b"o1,c\x001,01/31/2026,1,1.00,S\x00X\no2,c2,01/31/2026,1,1.00,S\n"
    )
    check_load(world, r, LOADED, 2, 2, 0)
    assert [row[1:3] for row in world.partition("pos")] == [("o1", "c1"), ("o2", "c2")]
    assert world.partition("pos")[0][-1] == "SX"
    line = b'{"session_id": "s\x001", "customer_id": "c1", "started_at": "2026-01-31T09:00:00Z"}\n'
    r = world.load_tx("web", "jsonl", line)
    check_load(world, r, LOADED, 1, 1, 0)
    assert world.partition("web")[0][1] == "s1"


def test_the_files_of_a_range_of_days_come_from_one_listing_of_the_folder(
    tmp_path: Path, monkeypatch
) -> None:
    days = [D + dt.timedelta(days=i) for i in range(30)]
    for day in days[:-1]:
        (tmp_path / f"trans_pos_{day:%Y%m%d}.csv").write_text("x")
    (tmp_path / f"trans_pos_{days[3]:%Y%m%d}.json").write_text("x")  # a second file for one day
    listings = []
    glob = Path.glob
    monkeypatch.setattr(Path, "glob", lambda self, pattern: listings.append(pattern) or glob(self, pattern))
    inputs = find_inputs(tmp_path, "trans_pos", days, "%Y%m%d")
    assert len(listings) == 1  # a folder of thousands of files is not listed again for every day
    assert [inputs[d].name for d in days[:3]] == [f"trans_pos_{d:%Y%m%d}.csv" for d in days[:3]]
    assert isinstance(inputs[days[3]], str) and inputs[days[3]].startswith("2 files for trans_pos on")
    assert isinstance(inputs[days[-1]], NoFile)
