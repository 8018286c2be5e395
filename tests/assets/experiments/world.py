"""The hand-built world of the experiments tests (600 customers, uploads around a presentation day),
shared by their modules: the world fixture (tests/assets/experiments/conftest.py) and its helpers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.core.warehouse import connect
from pipeline.customers.events import build_events
from pipeline.customers.identity import build_identities
from pipeline.experiments.decisions import decide
from pipeline.ingest.customers import ingest_customers
from pipeline.ingest.sources.local_files import landed_file
from pipeline.ingest.transactions import ingest_transaction
from tests.conftest import UPLOADED_CONVERSIONS as UPLOADS
from tests.conftest import example_dict, make_config, write_pos

START = dt.date(2026, 1, 1)
D = dt.date(2026, 1, 10)  # the presentation day of the window tests
N = 600


def experiments_config(folder: Path, **changes):
    data = example_dict()
    pos = data["transactions"][0]
    # no channel reach: the hand-built customers have no e-mail or mobile identifiers
    variants = [{k: x for k, x in v.items() if k != "reach"} for v in data["variants"]]
    variants += [{"name": "a", "message": "A"}, {"name": "b", "message": "B"}]
    experiments = [
        {
            "name": "offer",
            "type": "NBO",
            "variants": ["discount_10", "discount_20", "free_shipping"],
            "control_share": 0.2,
            "exploration": 0.1,
        },
        {"name": "channel", "type": "NBC", "variants": ["email", "sms"], "control_share": 0.2},
        {
            "name": "ab",
            "type": "AB",
            "variants": ["a", "b"],
            "control_share": 0.5,
            "audience": [{"transaction": "pos", "field": "amount", "formula": {"gt": 10}}],
        },
        {"name": "off", "type": "AB", "variants": ["a"], "enabled": False},
        {
            "name": "window",
            "type": "AB",
            "variants": ["a"],
            "control_share": 0,
            "start": D.isoformat(),
            "end": D.isoformat(),
        },
    ]
    data = dict(
        transactions=[pos, UPLOADS],
        variants=variants,
        experiments=experiments,
        groups=[{"name": "g", "experiments": ["offer", "channel"]}],
        conversions={
            "uploaded": "uploaded_conversions",
            "definitions": [
                {
                    "name": "bought",
                    "experiment": "offer",
                    "value_field": "amount",
                    "rules": [{"transaction": "pos", "field": "product", "formula": {"eq": "PROMO"}}],
                }
            ],
        },
        retention={},
    )
    data.update(changes)
    return make_config(folder, START, **data)


def upload(con, config, folder: Path, day: dt.date, rows: list[str]) -> None:
    path = folder / f"conversions_upload_{day:%Y%m%d}.csv"
    path.write_text(
        "customer_id,experiment,conversion_datetime,conversion_value\n" + "".join(r + "\n" for r in rows)
    )
    result = ingest_transaction(
        con, config.transaction("uploaded_conversions"), "upload", landed_file(path, day), day
    )
    assert result.status != "FAILED", result.error


def build_world(tmp_path_factory):
    """600 customers (C0000..C0599) known from START; every 3rd bought for 5 + i % 20 on START."""
    folder = tmp_path_factory.mktemp("experiments")
    config = experiments_config(folder)
    files = folder / "files"
    (files / "customers_20260101.csv").write_text("customuid\n" + "".join(f"C{i:04d}\n" for i in range(N)))
    write_pos(files, START, [f"O{i},C{i:04d},ST01,SKU1,1,{5 + i % 20}.00" for i in range(0, N, 3)])
    with connect(config.warehouse_path) as con:
        ingest_customers(
            con, config.customers, "upload", landed_file(files / "customers_20260101.csv", START), "create"
        )
        ingest_transaction(
            con,
            config.transaction("pos"),
            "upload",
            landed_file(files / "trans_pos_20260101.csv", START),
            START,
        )
        # the window's uploads: 1 s before the presentation, at it, at 29 d 23:59:59 and at exactly 30 days;
        # C0004 converts twice in the window (one conversion per presentation: the first counts)
        upload(con, config, files, D - dt.timedelta(days=1), ["C0000,window,2026-01-09 23:59:59,10"])
        upload(
            con,
            config,
            files,
            D,
            ["C0001,window,2026-01-10 00:00:00,11", "C0004,window,2026-01-10 08:00:00,7"],
        )
        upload(con, config, files, D + dt.timedelta(days=3), ["C0004,window,2026-01-13 09:00:00,50"])
        upload(con, config, files, D + dt.timedelta(days=29), ["C0002,window,2026-02-08 23:59:59,12"])
        build_identities(con, config)
        for day in (START, D - dt.timedelta(days=1), D, D + dt.timedelta(days=3), D + dt.timedelta(days=29)):
            build_events(con, config, day)
        for day in (START + dt.timedelta(days=1), START + dt.timedelta(days=2), D):
            decide(con, config, day)
    return folder, config


def days(first: dt.date, last: dt.date) -> frozenset[dt.date]:
    """Every day from ``first`` through ``last``: what loaded_days returns when all of them loaded."""
    return frozenset(first + dt.timedelta(days=i) for i in range((last - first).days + 1))


def rows(config, query: str, params: dict | None = None) -> list[tuple]:
    with connect(config.warehouse_path, read_only=True) as con:
        return con.execute(query, params or {}).fetchall()
