"""KPI assets: on the demo world they equal the same figures computed here from the raw demo files,
and a small hand-made world pins the week and month boundaries and the exclusion of test accounts."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import json
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.cli import write_demo_config
from pipeline.config import load_config
from pipeline.core.warehouse import connect
from pipeline.customers.kpis import KPIS
from pipeline.demo import generate_world
from tests.conftest import example_dict, make_config, run_nightly, write_pos

START, DAYS, CUSTOMERS = dt.date(2026, 1, 1), 10, 300
GRAINS = ("day", "week", "month")
KPI_NAMES = [k.name for k in KPIS]
CENT = Decimal("0.01")
REACHABILITY = ("email_and_mobile", "email_only", "mobile_only", "not_reachable")


def period(grain: str, day: dt.date) -> dt.date:
    """The first day of the period of ``grain`` that ``day`` falls in (ISO weeks start on Monday)."""
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1) if grain == "month" else day


def query(config, sql: str, params=None) -> list[tuple]:
    with connect(config.warehouse_path, read_only=True) as con:
        return con.execute(sql, params or {}).fetchall()


def table(config, name: str, grain: str | None = None) -> list[tuple]:
    """A KPI table (at one grain, without the grain column), sorted."""
    if grain is None:
        return query(config, f"SELECT * FROM {name} ORDER BY ALL")
    return query(config, f"SELECT * EXCLUDE (grain) FROM {name} WHERE grain = $g ORDER BY ALL", {"g": grain})


def money(rows: list[tuple], *columns: int) -> list[tuple]:
    """The rows with the money columns rounded to the cent (None stays None)."""
    return [
        tuple(v.quantize(CENT) if i in columns and v is not None else v for i, v in enumerate(r))
        for r in rows
    ]


# --- the demo world, read back from its raw files ------------------------------------------------


@dataclass
class Event:
    customer_id: str | None  # None: anonymous
    type: str
    context: str
    occurred_at: dt.datetime
    value: Decimal | None = None
    page_views: int | None = None
    purchased: bool = False

    @property
    def day(self) -> dt.date:
        return self.occurred_at.date()


@dataclass
class Customer:
    created_on: dt.date
    email: bool
    mobile: bool


@dataclass
class Raw:
    customers: dict[str, Customer]  # the customers that count (not excluded)
    events: list[Event]  # the events that count (anonymous ones and those of the customers above)

    @property
    def days(self) -> list[dt.date]:
        known = [c.created_on for c in self.customers.values()] + [e.day for e in self.events]
        first, last = min(known), max(known)
        return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]

    def periods(self, grain: str) -> list[dt.date]:
        return sorted({period(grain, d) for d in self.days})

    @property
    def orders(self) -> list[tuple[str, Event]]:
        """(reported context, event) of every order: completedOrder, and web sessions that purchased."""
        return [
            ("ECOMMERCE" if e.context == "WEB" else e.context, e)
            for e in self.events
            if e.type == "completedOrder" or (e.type == "web_sessions" and e.purchased)
        ]


def _day_of(name: str) -> dt.date:
    return dt.datetime.strptime(name.rsplit("_", 1)[1].split(".")[0], "%Y%m%d").date()


def _numbered(path: Path, bad: set[tuple[str, int]]) -> list[dict]:
    """The good data rows of a CSV or JSON-lines landing file (rows numbered from 1 as in bad_rows.csv)."""
    if path.suffix == ".jsonl":
        lines = path.read_text(encoding="utf-8").splitlines()
        records = [json.loads(line, parse_float=Decimal) for line in lines if line.strip()]
    else:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = [h.strip() for h in next(reader)]
            records = [dict(zip(header, row, strict=False)) for row in reader]
    return [r for n, r in enumerate(records, start=1) if (path.name, n) not in bad]


def read_raw(out: Path) -> Raw:
    """Customers and events computed from the landing files alone, rejecting the rows of bad_rows.csv."""
    files = out / "files"
    with (out / "truth" / "bad_rows.csv").open() as f:
        bad = {(r["file"], int(r["row_number"])) for r in csv.DictReader(f)}
    latest: dict[str, dict] = {}
    created: dict[str, dt.date] = {}
    for path in sorted(files.glob("customers_*")):  # YYYYMMDD names: date order
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            rows = [dict(zip(data["header"], row, strict=True)) for row in data["data"]]
            rows = [r for n, r in enumerate(rows, start=1) if (path.name, n) not in bad]
        else:
            rows = _numbered(path, bad)
        for r in rows:
            latest[r["customuid"]] = r
            created.setdefault(r["customuid"], _day_of(path.name))
    customers = {
        uid: Customer(created[uid], bool((r["email"] or "").strip()), bool((r["idfa"] or "").strip()))
        for uid, r in latest.items()
        if not uid.startswith("TEST")  # the example config's exclusion filter
    }
    by_key = {uid.strip().lower(): uid for uid in customers}

    def who(key: str) -> str | None:
        return by_key.get(key.strip().lower())

    events = []
    for path in sorted(files.glob("trans_pos_*")):
        for r in _numbered(path, bad):
            at = dt.datetime.strptime(r["purchased_at"], "%m/%d/%Y")
            events.append(Event(who(r["customer_id"]), "completedOrder", "RETAIL", at, Decimal(r["amount"])))
    for path in sorted(files.glob("web_sessions_*")):
        for r in _numbered(path, bad):
            at = dt.datetime.strptime(r["started_at"], "%Y-%m-%d %H:%M:%S")
            value = Decimal(r["revenue"]) if r["revenue"] is not None else None
            events.append(
                Event(
                    who(r["customer_id"]),
                    "web_sessions",
                    "WEB",
                    at,
                    value,
                    int(r["page_views"]),
                    bool(r["purchased"]),
                )
            )
    types = {"sent": "campaignSent", "opened": "campaignOpened", "clicked": "campaignLinkClicked"}
    for path in sorted(files.glob("campaign_events_*")):
        for r in _numbered(path, bad):
            at = dt.datetime.fromtimestamp(int(r["occurred_at"]), dt.UTC).replace(tzinfo=None)
            events.append(Event(who(r["customer_id"]), types[r["event"]], "DIGITAL_CAMPAIGN", at))
    return Raw(customers, events)


# --- the KPIs expected from the raw files ---------------------------------------------------------


def expected_customers(raw: Raw, grain: str) -> list[tuple]:
    added = Counter(period(grain, c.created_on) for c in raw.customers.values())
    total, out = 0, []
    for p in raw.periods(grain):
        total += added[p]
        out.append((p, added[p], total))
    return out


def reachability(c: Customer) -> str:
    if c.email and c.mobile:
        return "email_and_mobile"
    return "email_only" if c.email else "mobile_only" if c.mobile else "not_reachable"


def expected_reachability(raw: Raw, grain: str) -> list[tuple]:
    added = Counter((period(grain, c.created_on), reachability(c)) for c in raw.customers.values())
    totals, out = Counter(), []
    for p in raw.periods(grain):
        for r in REACHABILITY:
            totals[r] += added[p, r]
            out.append((p, r, added[p, r], totals[r]))
    return sorted(out)


def expected_events(raw: Raw, grain: str) -> list[tuple]:
    events, anonymous, who = Counter(), Counter(), defaultdict(set)
    for e in raw.events:
        key = (period(grain, e.day), e.type, e.context)
        events[key] += 1
        if e.customer_id is None:
            anonymous[key] += 1
        else:
            who[key].add(e.customer_id)
    kinds = sorted({(e.type, e.context) for e in raw.events})
    return sorted(
        (p, t, c, events[p, t, c], anonymous[p, t, c], len(who[p, t, c]))
        for p in raw.periods(grain)
        for t, c in kinds
    )


def expected_purchases(raw: Raw, grain: str) -> list[tuple]:
    orders, revenue, buyers = Counter(), defaultdict(Decimal), defaultdict(set)
    for context, e in raw.orders:
        key = (period(grain, e.day), context)
        orders[key] += 1
        revenue[key] += e.value or 0
        if e.customer_id is not None:
            buyers[key].add(e.customer_id)
    contexts = sorted({c for c, _ in raw.orders})
    return sorted(
        (
            p,
            c,
            orders[p, c],
            revenue[p, c],
            revenue[p, c] / orders[p, c] if orders[p, c] else None,
            len(buyers[p, c]),
        )
        for p in raw.periods(grain)
        for c in contexts
    )


def expected_web(raw: Raw, grain: str) -> list[tuple]:
    sessions, views = Counter(), Counter()
    for e in raw.events:
        if e.type == "web_sessions":
            sessions[period(grain, e.day)] += 1
            views[period(grain, e.day)] += e.page_views
    return [(p, sessions[p], views[p]) for p in raw.periods(grain)]


def expected_behaviour(raw: Raw) -> list[tuple]:
    mine = defaultdict(list)
    for _, e in raw.orders:
        if e.customer_id is not None:
            mine[e.customer_id].append(e)
    out = []
    for uid in raw.customers:
        orders = mine[uid]
        spent = sum((e.value or Decimal(0) for e in orders), Decimal(0))
        times = [e.occurred_at for e in orders]
        out.append(
            (
                uid,
                len(orders),
                spent,
                spent / len(orders) if orders else None,
                min(times, default=None),
                max(times, default=None),
            )
        )
    return sorted(out)


def assert_average_order_values(got: list[tuple], want: list[tuple], column: int) -> None:
    """Average order values (doubles) agree to 1e-12 relative."""
    for g, w in zip(got, want, strict=True):
        if w[column] is None:
            assert g[column] is None, (g, w)
        else:
            assert g[column] == pytest.approx(float(w[column]), rel=1e-12), (g, w)


def without(rows: list[tuple], column: int) -> list[tuple]:
    return [r[:column] + r[column + 1 :] for r in rows]


# --- the demo world -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("kpi_demo")
    world = generate_world(out, customers=CUSTOMERS, days=DAYS, start=START)
    # without the demo's models (tests/assets/models/test_models.py covers them)
    config = load_config(write_demo_config(out, START)).model_copy(update={"models": []})
    result = run_nightly(config, START, world.end)
    assert result.success
    return config, result, read_raw(out)


def test_the_raw_world_is_what_the_test_expects(demo):
    _, _, raw = demo
    assert len(raw.customers) == CUSTOMERS and len(raw.events) > 1000
    assert {e.type for e in raw.events} == {
        "completedOrder",
        "web_sessions",
        "campaignSent",
        "campaignOpened",
        "campaignLinkClicked",
    }
    assert {c for c, _ in raw.orders} == {"ECOMMERCE", "RETAIL"}


def test_kpi_customers_equal_the_raw_files(demo):
    config, _, raw = demo
    for grain in GRAINS:
        assert table(config, "kpi_customers", grain) == expected_customers(raw, grain), grain
    # day grain: one row per day of the world; the last day's total is every customer
    days = table(config, "kpi_customers", "day")
    assert len(days) == DAYS and days[-1][2] == CUSTOMERS
    # 2026-01-01 is a Thursday: the first week starts on Monday 2025-12-29
    assert [r[0] for r in table(config, "kpi_customers", "week")] == [
        dt.date(2025, 12, 29),
        dt.date(2026, 1, 5),
    ]


def test_kpi_reachability_equals_the_raw_files(demo):
    config, _, raw = demo
    for grain in GRAINS:
        assert table(config, "kpi_reachability", grain) == expected_reachability(raw, grain), grain
    last = [
        r for r in table(config, "kpi_reachability", "day") if r[0] == START + dt.timedelta(days=DAYS - 1)
    ]
    assert sum(r[3] for r in last) == CUSTOMERS


def test_kpi_events_equal_the_raw_files(demo):
    config, _, raw = demo
    for grain in GRAINS:
        assert table(config, "kpi_events", grain) == expected_events(raw, grain), grain
    assert query(config, "SELECT sum(events) FROM kpi_events WHERE grain = 'month'") == [(len(raw.events),)]


def test_kpi_purchases_equal_the_raw_files_to_the_cent(demo):
    config, _, raw = demo
    for grain in GRAINS:
        got, want = table(config, "kpi_purchases", grain), expected_purchases(raw, grain)
        assert money(without(got, 4), 3) == money(without(want, 4), 3), (
            grain
        )  # counts exact, revenue to the cent
        assert_average_order_values(got, want, 4)
    revenue = sum((e.value for _, e in raw.orders), Decimal(0))
    assert query(config, "SELECT sum(revenue), sum(orders) FROM kpi_purchases WHERE grain = 'week'") == [
        (revenue, len(raw.orders))
    ]


def test_kpi_web_equals_the_raw_files(demo):
    config, _, raw = demo
    for grain in GRAINS:
        assert table(config, "kpi_web", grain) == expected_web(raw, grain), grain


def test_kpi_customer_behaviour_equals_the_raw_files(demo):
    config, _, raw = demo
    got, want = table(config, "kpi_customer_behaviour"), expected_behaviour(raw)
    assert len(got) == CUSTOMERS
    assert money(without(got, 3), 2) == money(without(want, 3), 2)
    assert_average_order_values(got, want, 3)


def test_kpi_checks_pass_and_the_ui_gets_numbers_and_plots(demo):
    _, result, raw = demo
    checks = {
        (e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()
    }
    mine = {k: v for k, v in checks.items() if k[0] in KPI_NAMES}
    assert mine == {
        **{(k, "kpi_totals_reconcile"): True for k in KPI_NAMES},
        ("kpi_purchases", "orders_in_one_currency"): True,
    }
    metadata = {
        m.materialization.asset_key.to_user_string(): {
            k: v.value for k, v in m.materialization.metadata.items()
        }
        for m in result.get_asset_materialization_events()
    }
    revenue = sum((e.value for _, e in raw.orders), Decimal(0))
    assert metadata["kpi_customers"]["customers_total"] == CUSTOMERS
    assert metadata["kpi_purchases"]["orders"] == len(raw.orders)
    assert metadata["kpi_purchases"]["revenue"] == pytest.approx(float(revenue), abs=0.005)
    assert metadata["kpi_web"]["sessions"] == sum(e.type == "web_sessions" for e in raw.events)
    assert metadata["kpi_customer_behaviour"]["buyers"] == len(
        {e.customer_id for _, e in raw.orders} - {None}
    )
    for name in KPI_NAMES:
        plot = metadata[name]["plot"]
        assert plot.startswith("![](data:image/png;base64,") and plot.endswith(")")
        assert base64.b64decode(plot[len("![](data:image/png;base64,") : -1])[:8] == b"\x89PNG\r\n\x1a\n"


# --- a hand-made world across a week and a month boundary -----------------------------------------

D0 = dt.date(2026, 1, 30)  # Friday; 2026-02-02 is the next Monday
D = [D0 + dt.timedelta(days=i) for i in range(4)]  # Fri 30 Jan, Sat 31 Jan, Sun 1 Feb, Mon 2 Feb
JAN, FEB, WEEK1, WEEK2 = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 1, 26), dt.date(2026, 2, 2)


def _at(day: dt.date, hms: str = "00:00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day} {hms}")


def _sessions(folder: Path, day: dt.date, rows: list[tuple]) -> None:
    """web_sessions JSON lines: (session_id, customer_id, hh:mm:ss, page_views, revenue or None)."""
    lines = [
        json.dumps(
            {
                "session_id": s,
                "customer_id": c,
                "started_at": f"{day} {t}",
                "page_views": pv,
                "utm_source": "google",
                "utm_medium": "cpc",
                "utm_campaign": None,
                "channel": "Paid Search",
                "purchased": revenue is not None,
                "revenue": revenue,
            }
        )
        for s, c, t, pv, revenue in rows
    ]
    (folder / f"web_sessions_{day:%Y%m%d}.jsonl").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def boundary_world(tmp_path_factory):
    """C1, C2 (and the test account TEST1) on Friday 30 Jan, C3 on Sunday 1 Feb, C4 on Monday 2 Feb;
    orders and sessions on each of the four days; X9 is no customer (anonymous). Built once."""
    tmp_path = tmp_path_factory.mktemp("boundary")
    data = example_dict()
    transactions = [t for t in data["transactions"] if t["name"] in ("pos", "web_sessions")]
    config = make_config(tmp_path, D0, transactions=transactions)
    files = tmp_path / "files"
    (files / "customers_20260130.csv").write_text(
        "customuid,email,idfa\nC1,a@x.com,\nC2,,id-2\nTEST1,t@x.com,id-t\n"
    )
    (files / "customers_20260201.csv").write_text("customuid,email,idfa\nC3,c@x.com,id-3\nC1,a@x.com,\n")
    (files / "customers_20260202.csv").write_text("customuid,email,idfa\nC4,,\n")
    write_pos(files, D[0], ["O1,C1,S1,P1,1,10.00", "O2,TEST1,S1,P1,1,99.00"])
    write_pos(files, D[1], ["O3,C2,S1,P1,1,20.50", "O4,X9,S1,P1,1,5.25"])
    write_pos(files, D[2], ["O5,C1,S1,P1,1,30.00"])
    write_pos(files, D[3], ["O6,c3,S1,P1,1,7.10"])  # matched to C3: identifiers are compared lower-cased
    _sessions(files, D[0], [("S1", "C1", "10:00:00", 3, 15.0), ("S2", "C2", "23:59:59", 2, None)])
    _sessions(files, D[1], [("S3", "X9", "08:00:00", 4, None)])
    _sessions(files, D[2], [("S4", "C3", "12:30:00", 5, 40.0)])
    _sessions(files, D[3], [("S5", "C1", "00:00:01", 1, None), ("S6", "TEST1", "09:00:00", 9, 50.0)])
    assert run_nightly(config, D[0], D[-1]).success
    return config


@pytest.fixture
def boundary(boundary_world, tmp_path):
    """A copy of the boundary world (config, files, warehouse) in tmp_path, for a test that changes it."""
    shutil.copytree(boundary_world.base_dir, tmp_path, symlinks=True, dirs_exist_ok=True)
    return load_config(tmp_path / "nightjar.yaml"), tmp_path


def test_week_and_month_boundaries(boundary_world):
    config = boundary_world
    assert table(config, "kpi_customers", "day") == [(D[0], 2, 2), (D[1], 0, 2), (D[2], 1, 3), (D[3], 1, 4)]
    assert table(config, "kpi_customers", "week") == [(WEEK1, 3, 3), (WEEK2, 1, 4)]
    assert table(config, "kpi_customers", "month") == [(JAN, 2, 2), (FEB, 2, 4)]
    assert table(config, "kpi_reachability", "week") == [
        (WEEK1, "email_and_mobile", 1, 1),
        (WEEK1, "email_only", 1, 1),
        (WEEK1, "mobile_only", 1, 1),
        (WEEK1, "not_reachable", 0, 0),
        (WEEK2, "email_and_mobile", 0, 1),
        (WEEK2, "email_only", 0, 1),
        (WEEK2, "mobile_only", 0, 1),
        (WEEK2, "not_reachable", 1, 1),
    ]
    assert table(config, "kpi_reachability", "month") == [
        (JAN, "email_and_mobile", 0, 0),
        (JAN, "email_only", 1, 1),
        (JAN, "mobile_only", 1, 1),
        (JAN, "not_reachable", 0, 0),
        (FEB, "email_and_mobile", 1, 1),
        (FEB, "email_only", 0, 1),
        (FEB, "mobile_only", 0, 1),
        (FEB, "not_reachable", 1, 1),
    ]
    assert table(config, "kpi_events", "week") == [
        (WEEK1, "completedOrder", "RETAIL", 4, 1, 2),
        (WEEK1, "web_sessions", "WEB", 4, 1, 3),
        (WEEK2, "completedOrder", "RETAIL", 1, 0, 1),
        (WEEK2, "web_sessions", "WEB", 1, 0, 1),
    ]
    assert table(config, "kpi_events", "month") == [
        (JAN, "completedOrder", "RETAIL", 3, 1, 2),
        (JAN, "web_sessions", "WEB", 3, 1, 2),
        (FEB, "completedOrder", "RETAIL", 2, 0, 2),
        (FEB, "web_sessions", "WEB", 2, 0, 2),
    ]
    d = Decimal
    assert table(config, "kpi_purchases", "week") == [
        (WEEK1, "ECOMMERCE", 2, d("55.00"), 27.5, 2),
        (WEEK1, "RETAIL", 4, d("65.75"), 65.75 / 4, 2),
        (WEEK2, "ECOMMERCE", 0, d("0"), None, 0),
        (WEEK2, "RETAIL", 1, d("7.10"), 7.1, 1),
    ]
    assert table(config, "kpi_purchases", "month") == [
        (JAN, "ECOMMERCE", 1, d("15.00"), 15.0, 1),
        (JAN, "RETAIL", 3, d("35.75"), 35.75 / 3, 2),
        (FEB, "ECOMMERCE", 1, d("40.00"), 40.0, 1),
        (FEB, "RETAIL", 2, d("37.10"), 37.1 / 2, 2),
    ]
    assert table(config, "kpi_web", "day") == [(D[0], 2, 5), (D[1], 1, 4), (D[2], 1, 5), (D[3], 1, 1)]
    assert table(config, "kpi_web", "week") == [(WEEK1, 4, 14), (WEEK2, 1, 1)]
    assert table(config, "kpi_web", "month") == [(JAN, 3, 9), (FEB, 2, 6)]
    assert table(config, "kpi_customer_behaviour") == [
        ("C1", 3, d("55.00"), 55 / 3, _at(D[0]), _at(D[2])),
        ("C2", 1, d("20.50"), 20.5, _at(D[1]), _at(D[1])),
        ("C3", 2, d("47.10"), 47.1 / 2, _at(D[2], "12:30:00"), _at(D[3])),
        ("C4", 0, d("0"), None, None, None),
    ]


def test_rerunning_the_kpis_changes_nothing_and_a_newly_excluded_customer_stops_counting(boundary):
    config, folder = boundary
    before = {name: table(config, name) for name in KPI_NAMES}
    assert run_nightly(config, D[-1], assets=KPI_NAMES).success
    assert {name: table(config, name) for name in KPI_NAMES} == before
    # C2 becomes a test account: the identity rebuild drops C2's stored events at once, and the
    # KPIs drop C2 and everything C2 did.
    data = example_dict()
    data["identity"]["exclude"].append({"property": "customuid", "op": "EQUALS", "value": "C2"})
    excluded = make_config(
        folder,
        D0,
        transactions=[t for t in data["transactions"] if t["name"] in ("pos", "web_sessions")],
        identity=data["identity"],
    )
    result = run_nightly(excluded, D[-1], assets=["customer_identities", *KPI_NAMES])
    assert result.success and all(e.passed for e in result.get_asset_check_evaluations())
    assert query(config, "SELECT count(*) FROM events WHERE customer_id = 'C2'") == [(0,)]
    assert table(config, "kpi_customers", "month") == [(JAN, 1, 1), (FEB, 2, 3)]
    assert [r[0] for r in table(config, "kpi_customer_behaviour")] == ["C1", "C3", "C4"]
    assert table(config, "kpi_purchases", "month")[1] == (
        JAN,
        "RETAIL",
        2,
        Decimal("15.25"),
        Decimal("7.625"),
        1,
    )
    assert table(config, "kpi_events", "month")[1] == (JAN, "web_sessions", "WEB", 2, 1, 1)


def test_orders_in_two_currencies_are_a_warning(boundary):
    config, folder = boundary
    data = example_dict()
    transactions = [t for t in data["transactions"] if t["name"] in ("pos", "web_sessions")]
    transactions[1]["event"]["currency"] = "USD"  # web orders in dollars, shop orders in euros
    dollars = make_config(folder, D0, transactions=transactions)
    result = run_nightly(dollars, D[0], D[-1], assets=["events", "kpi_purchases"])
    assert result.success
    [check] = [e for e in result.get_asset_check_evaluations() if e.check_name == "orders_in_one_currency"]
    assert not check.passed and check.severity.value == "WARN"
    assert check.metadata["currencies"].value == "EUR, USD"


def test_on_an_empty_warehouse_the_kpis_are_empty_and_reconcile(tmp_path):
    from pipeline.customers.kpis import prepare, rebuild, reconcile, summary

    with connect(tmp_path / "empty.duckdb") as con:
        prepare(con)
        for name in KPI_NAMES:
            assert rebuild(con, name)[0] == 0
            assert reconcile(con, name).passed
        assert {k: v.value for k, v in summary(con, "kpi_purchases").items()} == {
            "revenue": 0.0,
            "orders": 0,
            "revenue_last_30_days": 0.0,
            "orders_last_30_days": 0,
        }
        # the stand-in for the missing customer data set is temporary: the warehouse gains no `customers`
        assert con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'customers' AND NOT temporary"
        ).fetchall() == [(0,)]
