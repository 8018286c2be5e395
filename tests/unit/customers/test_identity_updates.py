"""The identity map's incremental rebuild: over random histories of customer files (identifiers that
move between customers, conflicts, test accounts), feed days (keys in any case, unknown keys) and
changes of the matching policy, each run leaves `customer_identities`, `customer_identity_keys` and
`events` exactly as a whole rebuild (no stored keys: every event rebuilt from the feeds) of the same
warehouse, and `events` as building every day again from the feeds would (an identifier that goes to
a test account and comes back brings its events back)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest

from pipeline.core.warehouse import connect, table_exists
from pipeline.customers.events import build_events
from pipeline.customers.identity import IDENTITY_KEYS, build_identities
from pipeline.ingest.customers import ingest_customers
from pipeline.ingest.sources.local_files import landed_file
from pipeline.ingest.transactions import ingest_transaction
from tests.conftest import example_dict, make_config, write_pos

START = dt.date(2026, 1, 1)
PEOPLE = [f"C{i:02d}" for i in range(8)] + ["TEST1", "TEST2"]  # TEST*: excluded by the example config
EMAILS = [f"e{i}" for i in range(6)]  # few, so that customers share them (conflicts)
STEPS = 6
TABLES = {
    "customer_identities": "customer_id, kind, value, dataset, conflict, excluded",
    IDENTITY_KEYS: "dataset, key, customer_id, kind, excluded",
    "events": "event_id, customer_id, customer_key, customer_key_kind, _partition_date",
}


def _config(folder: Path):
    pos = next(t for t in example_dict()["transactions"] if t["name"] == "pos")
    return make_config(folder, START, transactions=[{**pos, "customer_key": ["emailsha256", "customuid"]}])


def _customer_file(rng: np.random.Generator, folder: Path, day: dt.date) -> Path:
    """Some customers with one or two e-mail hashes each (drawn from a small pool) and an idfa."""
    lines = ["customuid,emailsha256,idfa"]
    for who in rng.choice(PEOPLE, size=int(rng.integers(3, len(PEOPLE))), replace=False):
        emails = rng.choice(EMAILS, size=int(rng.integers(1, 3)), replace=False)
        lines.append(f'{who},"{",".join(emails)}",i{rng.integers(0, 4)}')
    path = folder / f"customers_{day:%Y%m%d}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _pos_rows(rng: np.random.Generator, day: dt.date) -> list[str]:
    """Orders keyed by customer ids, e-mail hashes (in any case) and keys nobody knows."""
    keys = PEOPLE + EMAILS + [e.upper() for e in EMAILS] + ["c00", "nobody", "x9"]
    return [
        f"O{day:%j}{i},{rng.choice(keys)},ST01,SKU1,1,{rng.integers(1, 99)}.00"
        for i in range(int(rng.integers(4, 12)))
    ]


def _content(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {
        t: sorted(con.execute(f"SELECT {c} FROM {t}").fetchall(), key=repr) if table_exists(con, t) else []
        for t, c in TABLES.items()
    }


def _copy(con: duckdb.DuckDBPyConnection, warehouse: Path) -> Path:
    con.execute("CHECKPOINT")
    copy = warehouse.with_name("copy.duckdb")
    shutil.copyfile(warehouse, copy)
    return copy


def _events_from_the_feeds(con: duckdb.DuckDBPyConnection, warehouse: Path, config, last: dt.date) -> list:
    """The events of the days START..``last`` built again from the feeds under the map as it is now."""
    copy = _copy(con, warehouse)
    with duckdb.connect(str(copy)) as again:
        build_events(again, config, START, last)
        out = _content(again)["events"]
    copy.unlink()
    return out


def _rebuilt_whole(con: duckdb.DuckDBPyConnection, warehouse: Path, config) -> dict[str, list[tuple]]:
    """The same warehouse rebuilt whole: a copy without the stored keys."""
    copy = _copy(con, warehouse)
    with duckdb.connect(str(copy)) as whole:
        whole.execute(f"DROP TABLE IF EXISTS {IDENTITY_KEYS}")
        build_identities(whole, config)
        out = _content(whole)
    copy.unlink()
    return out


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_incremental_identities_equal_a_whole_rebuild(tmp_path, seed):
    rng = np.random.default_rng(seed)
    config = _config(tmp_path)
    files = tmp_path / "files"
    changed_something = False
    with connect(config.warehouse_path) as con:
        for step in range(STEPS):
            day = START + dt.timedelta(days=step)
            own_id = config.model_copy(
                update={"identity": config.identity.model_copy(update={"unknown_keys": "own_id"})}
            )
            if step == 2:  # a day's events rebuilt under another policy, then the map under this one
                build_events(con, own_id, START)
            if step == 4:  # a policy change: keys nobody knows become their own customers
                config = own_id
            if step == 0 or rng.random() < 0.6:
                f = landed_file(_customer_file(rng, files, day), day)
                assert ingest_customers(con, config.customers, "upload", f).status != "FAILED"
            write_pos(files, day, _pos_rows(rng, day))
            f = landed_file(files / f"trans_pos_{day:%Y%m%d}.csv", day)
            ingest_transaction(con, config.transaction("pos"), "upload", f, day)
            before = _content(con)
            expected = _rebuilt_whole(con, config.warehouse_path, config)
            build_identities(con, config)
            after = _content(con)
            assert after == expected, f"step {step}"
            if step:  # the events of the days built so far, as building them again gives them
                feeds = _events_from_the_feeds(con, config.warehouse_path, config, day - dt.timedelta(days=1))
                assert after["events"] == feeds, f"step {step}"
            changed_something |= after["events"] != before["events"]
            build_events(con, config, day)
        assert changed_something  # some history re-pointed stored events
        # a run with nothing new changes nothing
        before = _content(con)
        build_identities(con, config)
        assert _content(con) == before
