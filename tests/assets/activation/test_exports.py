"""Exports as assets: the nightly run writes each configured export's file; `nightjar export` writes the
same bytes for the same partition; re-running a partition leaves one copy."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.cli import main
from pipeline.core.warehouse import connect
from tests.assets.activation.conftest import EXPORTS, LAST, START, World
from tests.conftest import run_nightly

PRESENTED = START + dt.timedelta(days=8)  # the demo's experiments decide on day 9


def files(world: World) -> dict[str, bytes]:
    folder = world.config.base_dir / "out"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def count(world: World, query: str, day: dt.date) -> int:
    with connect(world.config.warehouse_path, read_only=True) as con:
        return con.execute(query, {"d": day}).fetchall()[0][0]


def test_the_nightly_runs_wrote_each_export(activation_world: World):
    written = files(activation_world)
    results = written[f"results_{PRESENTED:%Y%m%d}.csv"].decode().splitlines()
    assert results[0] == (
        "customer_id,experiment,group,date,variant,score,reason,code,category,message,send_at,"
        "drawn_variant,held_out_variant,assignment_probability,eligible_variants"
    )
    assert len(results) - 1 == count(
        activation_world, "SELECT count(*) FROM results WHERE date = $d", PRESENTED
    )
    assert ",D20,offer,20% off your next order" in "\n".join(results)  # the variant's code, category, message
    # the last night's partition wrote the decisions it made, presented the day after it
    tomorrow = LAST + dt.timedelta(days=1)
    ahead = written[f"results_{tomorrow:%Y%m%d}.csv"].decode().splitlines()
    decided = count(activation_world, "SELECT count(*) FROM results WHERE date = $d", tomorrow)
    assert len(ahead) - 1 == decided > 0
    assert f"results_{START:%Y%m%d}.csv" not in written  # no night decides the first day
    scores = activation_world.config.base_dir / "out" / f"scores_{LAST:%Y%m%d}.parquet"
    assert pq.read_table(scores).num_rows == count(
        activation_world, "SELECT count(*) FROM predictions WHERE date = $d", LAST
    )
    credits = [json.loads(line) for line in written[f"credits_{LAST:%Y%m%d}.jsonl"].decode().splitlines()]
    assert list(credits[0]) == ["conversion_id", "model", "channel", "credited_value"]
    assert len(credits) == count(
        activation_world, "SELECT count(*) FROM attribution_credits WHERE _partition_date = $d", LAST
    )
    assert not [name for name in written if name.startswith(".")]  # no temporary file left


def test_nightjar_export_writes_the_same_bytes(activation_world: World, tmp_path: Path, capsys):
    written = files(activation_world)
    config = str(activation_world.config.base_dir / "nightjar.yaml")
    for spec, day in zip(EXPORTS, (PRESENTED, LAST, LAST), strict=True):
        to = tmp_path / Path(spec["destination"]).name
        args = ["export", spec["table"], "--date", day.isoformat(), "--to", str(to), "--config", config]
        args += ["--format", spec.get("format", "csv")]
        args += ["--columns", ",".join(spec["columns"])] if "columns" in spec else []
        assert main(args) == 0, capsys.readouterr().err
        name = spec["destination"].removeprefix("out/").replace("{date}", f"{day:%Y%m%d}")
        assert (tmp_path / name).read_bytes() == written[name], name


def test_rerunning_a_partition_leaves_one_copy(activation_world: World):
    before = files(activation_world)
    assert run_nightly(activation_world.config, PRESENTED, assets=["export_decisions"]).success
    assert files(activation_world) == before
