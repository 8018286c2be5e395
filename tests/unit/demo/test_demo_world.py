"""The synthetic demo world: file contract, determinism, deliberately bad rows and the hidden truth."""

import csv
import datetime as dt
import json
import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd
import pytest

from pipeline.demo import generate_world

START = dt.date(2026, 1, 1)
DAYS = 5
CUSTOMER_HEADER = [
    "customuid",
    "email",
    "idfa",
    "txt_city",
    "txt_segment",
    "num_age",
    "attr_interests",
    "goal_newsletter",
    "goal_newsletter_timestamp",
]
HEADERS = {
    "trans_pos": ["order_id", "customer_id", "purchased_at", "store", "product", "quantity", "amount"],
    "web_sessions": [
        "session_id",
        "customer_id",
        "started_at",
        "page_views",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "channel",
        "purchased",
        "revenue",
    ],
    "campaign_events": ["customer_id", "campaign", "event", "occurred_at"],
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("world")
    summary = generate_world(out, customers=300, days=DAYS, start=START)
    return out, summary


@pytest.fixture(scope="module")
def medium_world(tmp_path_factory):
    out = tmp_path_factory.mktemp("medium")
    generate_world(out, customers=3000, days=30, start=START)
    return out


def _day(name: str) -> dt.date:
    return dt.datetime.strptime(re.search(r"_(\d{8})\.", name).group(1), "%Y%m%d").date()


def _records(path: Path) -> list:
    """Data records of a file: CSV rows without the header, or parsed JSON lines."""
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))[1:]


def _customers(folder: Path) -> dict[str, list[list]]:
    """Customer rows per customer file name."""
    files = {}
    for path in sorted(folder.glob("customers_*")):
        if path.suffix == ".json":
            files[path.name] = json.loads(path.read_text(encoding="utf-8"))["data"]
        else:
            files[path.name] = _records(path)
    return files


def _parses(value, fmt: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value, fmt)
    except (TypeError, ValueError):
        return None


def _problems(dataset: str, record, day: dt.date, known: set[str]) -> set[str]:
    """The fields of one transaction record that the pipeline must reject (`columns` for a bad width)."""
    if dataset == "web_sessions":
        row = record
        when = _parses(row["started_at"], "%Y-%m-%d %H:%M:%S")
        checks = {
            "started_at": when is not None and when.date() == day,
            "page_views": type(row["page_views"]) is int,
            "purchased": isinstance(row["purchased"], bool),
            "revenue": row["revenue"] is None or isinstance(row["revenue"], float | int),
        }
    else:
        if len(record) != len(HEADERS[dataset]):
            return {"columns"}
        row = dict(zip(HEADERS[dataset], record, strict=True))
        if dataset == "trans_pos":
            when = _parses(row["purchased_at"], "%m/%d/%Y")
            checks = {
                "purchased_at": when is not None and when.date() == day,
                "quantity": row["quantity"].isdigit(),
                "amount": _is_money(row["amount"]),
            }
        else:
            stamp = int(row["occurred_at"]) if row["occurred_at"].isdigit() else None
            checks = {
                "occurred_at": stamp is not None and dt.datetime.fromtimestamp(stamp, dt.UTC).date() == day,
                "event": row["event"] in ("sent", "opened", "clicked"),
            }
    assert row["customer_id"] in known or not row["customer_id"], "a customer that has not signed up"
    checks["customer_id"] = bool(row["customer_id"])
    return {field for field, ok in checks.items() if not ok}


def _is_money(value: str) -> bool:
    try:
        return Decimal(value).as_tuple().exponent == -2
    except InvalidOperation:
        return False


def test_file_names_and_summary(world):
    out, summary = world
    days = [(START + dt.timedelta(days=i)).strftime("%Y%m%d") for i in range(DAYS)]
    expected = {f"customers_{days[0]}.json"} | {f"customers_{d}.csv" for d in days[1:]}
    ext = {"trans_pos": "csv", "web_sessions": "jsonl", "campaign_events": "csv"}
    expected |= {f"{name}_{d}.{ext[name]}" for name in HEADERS for d in days}
    assert {p.name for p in (out / "files").iterdir()} == expected
    assert {p.name for p in (out / "truth").iterdir()} == {
        "customers.csv",
        "world.json",
        "bad_rows.csv",
        "decision_rates.csv",
    }
    assert (summary.start, summary.end, summary.customers, summary.files) == (
        START,
        START + dt.timedelta(days=DAYS - 1),
        300,
        len(expected),
    )
    for dataset, name in [
        ("pos", "trans_pos"),
        ("web_sessions", "web_sessions"),
        ("campaign_events", "campaign_events"),
    ]:
        rows = sum(len(_records(p)) for p in (out / "files").glob(f"{name}_*"))
        assert summary.rows[dataset] == rows > 0
    world_json = json.loads((out / "truth" / "world.json").read_text())
    assert world_json["seed"] == 7 and world_json["days"] == DAYS and len(world_json["channel_lift"]) == 8


def test_same_seed_gives_identical_bytes(world, tmp_path):
    out, _ = world
    generate_world(tmp_path, customers=300, days=DAYS, start=START)
    first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert first == second


def test_customer_files(world):
    out, _ = world
    files = _customers(out / "files")
    first = (out / "files" / f"customers_{START:%Y%m%d}.json").read_text(encoding="utf-8")
    assert json.loads(first)["header"] == CUSTOMER_HEADER
    csv_header = (out / "files" / f"customers_{START + dt.timedelta(days=1):%Y%m%d}.csv").open().readline()
    assert csv_header.strip() == ", ".join(CUSTOMER_HEADER)
    initial = len(files[f"customers_{START:%Y%m%d}.json"])
    assert 0.7 * 300 < initial < 0.9 * 300
    assert len({row[0] for rows in files.values() for row in rows}) == 300
    for rows in files.values():
        assert all(len(row) == len(CUSTOMER_HEADER) for row in rows)
        for row in rows:
            email = row[1].strip().lower()
            assert re.fullmatch(r"[a-z]+\.[a-z]+\d+@[a-z.]+", email), email
    idfas = [row[2] for rows in files.values() for row in rows]
    assert any(i and "," in i for i in idfas) and any(not i for i in idfas)


def test_bad_rows_are_recorded_and_really_bad(world, medium_world):
    _check_bad_rows(world[0])
    bad = _check_bad_rows(medium_world)
    kinds = {
        "customers": {"duplicate_customuid"},
        "trans_pos": {"bad_date", "text_in_number", "missing_customer_id", "wrong_column_count"},
        "web_sessions": {"bad_date", "text_in_number", "missing_customer_id"},
        "campaign_events": {"bad_date", "missing_customer_id", "wrong_column_count"},
    }
    datasets = bad.file.str.extract(r"^(\w+?)_\d{8}")[0]
    assert set(zip(datasets, bad.kind, strict=True)) == {(d, k) for d, ks in kinds.items() for k in ks}


def _check_bad_rows(out: Path) -> pd.DataFrame:
    """Every recorded bad row is broken in exactly the recorded field, and every other row is valid."""
    bad = pd.read_csv(out / "truth" / "bad_rows.csv")
    recorded = {(r.file, r.row_number): r.field for r in bad.itertuples()}
    dup = bad[bad.kind == "duplicate_customuid"]
    assert len(dup) == 1 and dup.iloc[0].file == f"customers_{START + dt.timedelta(days=1):%Y%m%d}.csv"

    customer_files = _customers(out / "files")
    found = {}
    for name, rows in customer_files.items():
        ids = [row[0] for row in rows]
        found |= {(name, i + 1): "customuid" for i, uid in enumerate(ids) if uid in ids[:i]}
    tx_rows = 0
    for dataset in HEADERS:
        for path in sorted((out / "files").glob(f"{dataset}_*")):
            day = _day(path.name)
            known = {row[0] for name, rows in customer_files.items() if _day(name) <= day for row in rows}
            records = _records(path)
            tx_rows += len(records)
            for number, record in enumerate(records, start=1):
                problems = _problems(dataset, record, day, known)
                assert len(problems) <= 1, (path.name, number, problems)
                if problems:
                    found[(path.name, number)] = problems.pop()
    assert found == recorded
    assert set(bad.kind) <= {
        "bad_date",
        "text_in_number",
        "missing_customer_id",
        "wrong_column_count",
        "duplicate_customuid",
    }
    assert 0.002 <= (len(bad) - 1) / tx_rows <= 0.01
    return bad


def test_no_truth_in_files(world):
    out, _ = world
    truth = pd.read_csv(out / "truth" / "customers.csv")
    assert {"customuid", "propensity", "churn_risk", "churned_on", "affinity_email"} <= set(truth.columns)
    assert truth.propensity.between(0, 1, inclusive="neither").all()
    for path in (out / "files").iterdir():
        text = path.read_text(encoding="utf-8").lower()
        assert not re.search(r"propensity|churn|affinity|[0-9a-f]{64}", text), path.name


def test_churned_customers_stop_acting(world):
    out, _ = world
    truth = pd.read_csv(out / "truth" / "customers.csv", keep_default_na=False)
    churned = {r.customuid: dt.date.fromisoformat(r.churned_on) for r in truth.itertuples() if r.churned_on}
    assert churned
    for dataset, at in [("trans_pos", 1), ("web_sessions", "customer_id"), ("campaign_events", 0)]:
        for path in (out / "files").glob(f"{dataset}_*"):
            for record in _records(path):
                if dataset == "campaign_events" and record[2] == "sent":
                    continue  # sends are the company's doing, not the customer's
                uid = record[at]
                assert uid not in churned or _day(path.name) < churned[uid], (path.name, uid)


def test_campaign_funnel(world):
    """Clicks are a subset of opens, opens of sends (up to rows whose customer id was blanked)."""
    out, _ = world
    events = Counter()
    for path in (out / "files").glob("campaign_events_*"):
        events.update((row[0], row[1], row[2]) for row in _records(path) if row[0])
    assert set(events.values()) == {1}
    parent = {"opened": "sent", "clicked": "opened"}
    orphans = [e for e in events if e[2] != "sent" and (e[0], e[1], parent[e[2]]) not in events]
    bad = pd.read_csv(out / "truth" / "bad_rows.csv")
    blanked = bad[bad.file.str.startswith("campaign_events") & (bad.kind == "missing_customer_id")]
    assert len(orphans) <= len(blanked)
    assert Counter(e[2] for e in events)["clicked"] > 0


def test_purchases_follow_true_propensity(medium_world):
    truth = pd.read_csv(medium_world / "truth" / "customers.csv")
    files = (medium_world / "files").glob("trans_pos_*")
    bought = Counter(row[1] for path in files for row in _records(path))
    truth["purchases"] = truth.customuid.map(bought).fillna(0)
    assert truth.propensity.rank().corr(truth.purchases.rank()) > 0.2
