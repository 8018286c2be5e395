"""Identity matching, the unified events and retention, on hand-built worlds with exact expectations."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil

import pytest

from pipeline.config import parse_config
from pipeline.core.warehouse import connect
from pipeline.customers.retention import apply_retention, cutoff
from tests.conftest import run_nightly

D1 = dt.date(2026, 1, 1)


def sha(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def world(tmp_path, case_sensitive: bool):
    """CRM customer data and a newsletter feed keyed by e-mail hash (no CRM ids), plus a POS feed."""
    files = tmp_path / "files"
    files.mkdir()
    (files / "customers_20260101.csv").write_text(
        "customuid,email,idfa\n"
        "C1,a@x.com,\n"
        '"C2","b@x.com, c@x.com",dev-2\n'
        "C3,a@x.com,\n"  # shares C1's address: a conflict, given to C1
        "TEST9,t@x.com,\n"  # a test account: dropped with everything it did
    )
    (files / "newsletter_20260101.csv").write_text(
        "email_hash,opened_at\n"
        f"{sha('a@x.com')},2026-01-01 08:00:00\n"
        f"{sha('c@x.com').upper()},2026-01-01 09:00:00\n"  # upper-case hex: matches only case-insensitively
        f"{sha('z@x.com')},2026-01-01 10:00:00\n"  # nobody's: anonymous
        f"{sha('t@x.com')},2026-01-01 11:00:00\n"  # the test account's: dropped
    )
    (files / "pos_20260101.csv").write_text(
        "order_id,buyer,day,amount\nO1,C2,2026-01-01,10\nO2,TEST9,2026-01-01,5\nO3,C9,2026-01-01,7\nO4,DEV-2,2026-01-01,1\n"
    )
    data = {
        "start_date": "2026-01-01",
        "warehouse": "w.duckdb",
        "sources": [{"name": "landing", "kind": "local_files", "folder": "files"}],
        "customers": {"source": "landing", "file_name": "customers"},
        "identity": {
            "match_on": ["customuid", "emailsha256", "idfa"],
            "case_sensitive": case_sensitive,
            "exclude": [{"property": "customuid", "op": "STARTS_WITH", "value": "TEST"}],
        },
        "transactions": [
            {
                "name": "newsletter",
                "source": "landing",
                "file_name": "newsletter",
                "customer_field": "email_hash",
                "customer_key": "emailsha256",
                "time_field": "opened_at",
                "context": "DIGITAL_CAMPAIGN",
                "event": {"type": "campaignOpened"},
                "fields": [
                    {"name": "email_hash", "type": "String"},
                    {"name": "opened_at", "type": "Timestamp"},
                ],
            },
            {
                "name": "pos",
                "source": "landing",
                "file_name": "pos",
                "customer_field": "buyer",
                "customer_key": ["idfa", "customuid"],
                "time_field": "day",
                "context": "RETAIL",
                "event": {"type": "completedOrder", "value": "amount", "currency": "EUR"},
                "fields": [
                    {"name": "order_id", "type": "String"},
                    {"name": "buyer", "type": "String"},
                    {"name": "day", "type": "Date"},
                    {"name": "amount", "type": "Decimal"},
                ],
            },
        ],
    }
    config = parse_config(data, tmp_path / "c.yaml", tmp_path)
    assert run_nightly(config, D1).success
    return config


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The world with case-insensitive matching, built once: tests that only read it share it."""
    return world(tmp_path_factory.mktemp("world"), case_sensitive=False)


@pytest.fixture
def copied(built, tmp_path):
    """A copy of the built world (its files, warehouse and publications) in tmp_path, for a test that
    changes it: copying the folder costs far less than running the graph again."""
    shutil.copytree(built.base_dir, tmp_path, symlinks=True, dirs_exist_ok=True)
    return parse_config(built.model_dump(mode="json", exclude={"base_dir"}), tmp_path / "c.yaml", tmp_path)


def q(config, sql, params=None):
    with connect(config.warehouse_path, read_only=True) as con:
        return con.execute(sql, params or {}).fetchall()


def test_shared_email_hashes_merge_feeds_into_the_right_customers_case_insensitive(built):
    config = built
    events = q(
        config,
        "SELECT source, customer_key, customer_id, type FROM events "
        "ORDER BY source, occurred_at, customer_key",
    )
    assert events == [
        ("newsletter", sha("a@x.com"), "C1", "campaignOpened"),
        ("newsletter", sha("c@x.com").upper(), "C2", "campaignOpened"),
        ("newsletter", sha("z@x.com"), None, "campaignOpened"),
        ("pos", "C2", "C2", "completedOrder"),
        ("pos", "C9", None, "completedOrder"),
        ("pos", "DEV-2", "C2", "completedOrder"),  # idfa 'dev-2', matched lower-cased
    ]
    # the conflict is counted, and resolved to the smallest customer_id
    conflicts = q(
        config, "SELECT DISTINCT kind, value, customer_id FROM customer_identities WHERE conflict ORDER BY 3"
    )
    assert conflicts == [("emailsha256", sha("a@x.com"), "C1"), ("emailsha256", sha("a@x.com"), "C3")]
    identities = q(
        config,
        "SELECT customer_id, kind, dataset FROM customer_identities "
        "WHERE NOT excluded AND customer_id = 'C2' ORDER BY ALL",
    )
    assert identities == [
        ("C2", "customuid", "customers"),
        ("C2", "customuid", "pos"),
        ("C2", "emailsha256", "customers"),
        ("C2", "emailsha256", "customers"),
        ("C2", "emailsha256", "newsletter"),
        ("C2", "idfa", "customers"),
        ("C2", "idfa", "pos"),
    ]
    # the test account and everything it did are gone from the events
    assert q(
        config,
        "SELECT count(*) FROM events WHERE customer_id = 'TEST9' OR customer_key IN ('TEST9', $t)",
        {"t": sha("t@x.com")},
    ) == [(0,)]


def test_case_sensitive_matching_leaves_the_upper_case_hash_anonymous(tmp_path):
    config = world(tmp_path, case_sensitive=True)
    got = q(
        config,
        "SELECT customer_key, customer_id FROM events WHERE source = 'newsletter' ORDER BY occurred_at",
    )
    assert got == [(sha("a@x.com"), "C1"), (sha("c@x.com").upper(), None), (sha("z@x.com"), None)]
    assert q(config, "SELECT customer_id FROM events WHERE source = 'pos' AND customer_key = 'DEV-2'") == [
        (None,)
    ]


def test_events_carry_value_context_and_properties(copied):
    config = copied
    row = q(
        config,
        "SELECT context, occurred_at, value, currency, properties->>'order_id', event_id FROM events "
        "WHERE customer_key = 'C2' AND source = 'pos'",
    )
    assert row == [("RETAIL", dt.datetime(2026, 1, 1), 10, "EUR", "O1", row[0][5])]
    assert row[0][5].startswith("pos:") and row[0][5].endswith(":1")
    # re-running the day changes nothing (but the load ids)
    same = "SELECT * EXCLUDE (event_id, load_id) FROM events ORDER BY ALL"
    before = q(config, same)
    assert run_nightly(config, D1).success
    assert q(config, same) == before and len(before) == 6


@pytest.mark.parametrize(
    ("today", "months", "expected"),
    [
        (dt.date(2026, 3, 31), 1, dt.datetime(2026, 3, 1)),
        (dt.date(2026, 3, 30), 1, dt.datetime(2026, 2, 28)),
        (dt.date(2026, 1, 15), 13, dt.datetime(2024, 12, 16)),
    ],
)
def test_retention_cutoff(today, months, expected):
    assert cutoff(today, months) == expected


def test_retention_deletes_exactly_the_rows_older_than_the_policy(tmp_path):
    import duckdb

    con = duckdb.connect(str(tmp_path / "r.duckdb"))
    con.execute(
        "CREATE TABLE events "
        "(event_id VARCHAR, type VARCHAR, occurred_at TIMESTAMP, source VARCHAR, load_id BIGINT)"
    )
    keep_from = dt.datetime(2025, 12, 1)  # 2 months back from the end of 2026-01-31
    rows = []
    for i, (t, at) in enumerate(
        [
            ("web", keep_from - dt.timedelta(microseconds=1)),
            ("web", keep_from),
            ("web", dt.datetime(2020, 1, 1)),
            ("order", dt.datetime(2020, 1, 1)),
            ("open", keep_from - dt.timedelta(days=1)),
        ]
    ):
        rows.append((f"feed:1:{i}", t, at, "feed", 1))
    con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
    con.execute("CREATE TABLE tx_feed AS SELECT 1 AS _load_id, range AS _row_number FROM range(5)")
    deleted, source_rows = apply_retention(con, {"web": 2, "open": 3}, dt.date(2026, 1, 31))
    assert deleted == {"open": 0, "web": 2} and source_rows == {"tx_feed": 2}
    assert con.execute("SELECT _row_number FROM tx_feed ORDER BY 1").fetchall() == [(1,), (3,), (4,)]
    assert con.execute("SELECT event_id FROM events ORDER BY 1").fetchall() == [
        ("feed:1:1",),
        ("feed:1:3",),
        ("feed:1:4",),
    ]


def test_retention_deletes_the_old_feed_rows_of_excluded_customers_too(copied, tmp_path):
    """An excluded customer's feed rows have no events, so retention (which followed the events) kept
    them for ever: a staff member's orders outlived the policy, and came back as events when the filter
    was lifted."""
    config = copied
    assert q(config, "SELECT count(*) FROM tx_pos WHERE buyer = 'TEST9'") == [(1,)]
    assert q(config, "SELECT count(*) FROM tx_newsletter") == [(4,)]
    with connect(config.warehouse_path) as con:
        deleted, source_rows = apply_retention(
            con, {"completedOrder": 1, "campaignOpened": 1}, dt.date(2026, 6, 1), config
        )
    assert deleted == {"campaignOpened": 3, "completedOrder": 3}  # the events: TEST9 had none
    assert source_rows == {"tx_newsletter": 4, "tx_pos": 4}
    assert (
        q(config, "SELECT count(*) FROM tx_pos") == q(config, "SELECT count(*) FROM tx_newsletter") == [(0,)]
    )
    # a later year: retention of another type leaves the rows of the types it does not name
    (tmp_path / "files" / "pos_20260701.csv").write_text("order_id,buyer,day,amount\nO9,TEST9,2026-07-01,5\n")
    assert run_nightly(config, dt.date(2026, 7, 1), assets=["tx_pos", "events"]).success
    with connect(config.warehouse_path) as con:
        assert apply_retention(con, {"campaignOpened": 1}, dt.date(2027, 6, 1), config)[1] == {}
        assert apply_retention(con, {"completedOrder": 1}, dt.date(2026, 7, 15), config)[1] == {}
        assert apply_retention(con, {"completedOrder": 1}, dt.date(2027, 6, 1), config)[1] == {"tx_pos": 1}


def test_retention_asset_reports_what_it_deleted(copied, tmp_path):
    config = copied
    short = parse_config(
        {**config.model_dump(mode="json", exclude={"base_dir"}), "retention": {"campaignOpened": 1}},
        tmp_path / "c.yaml",
        tmp_path,
    )
    late = dt.date(2026, 3, 1)
    result = run_nightly(short, late, assets=["events_retention"])
    assert result.success
    md = result.asset_materializations_for_node("events_retention")[0].metadata
    assert (
        md["deleted"].value == 3
        and md["source_rows_deleted"].value == 4  # the excluded one's row too (it had no event)
        and md["as_of"].value == "2026-03-01"
    )
    assert q(config, "SELECT count(*) FROM events WHERE type = 'campaignOpened'") == [(0,)]
    assert q(config, "SELECT count(*) FROM events WHERE type = 'completedOrder'") == [(3,)]  # untouched
    assert q(config, "SELECT count(*) FROM tx_newsletter") == [(0,)]
    # rebuilding the day cannot bring them back
    assert run_nightly(short, D1, assets=["events"]).success
    assert q(config, "SELECT count(*) FROM events WHERE type = 'campaignOpened'") == [(0,)]


def test_an_excluded_test_account_never_takes_a_real_customers_identifier(copied, tmp_path):
    config = copied
    files = tmp_path / "files"
    # ATEST1 sorts before C1 and shares its address; it is a test account by the CONTAINS filter
    (files / "customers_20260101.csv").write_text("customuid,email,idfa\nATEST1,a@x.com,\nC1,a@x.com,\n")
    data = config.model_dump(mode="json", exclude={"base_dir"})
    data["identity"]["exclude"] = [{"property": "customuid", "op": "CONTAINS", "value": "TEST"}]
    cfg = parse_config(data, tmp_path / "c.yaml", tmp_path)
    assert run_nightly(cfg, D1).success
    assert q(cfg, "SELECT customer_id FROM events WHERE customer_key = $k", {"k": sha("a@x.com")}) == [
        ("C1",)
    ]


def test_a_customer_no_longer_excluded_gets_their_events_back_without_rebuilding_the_days(copied, tmp_path):
    """The test account's events were dropped; once no filter excludes it, the map's run brings them
    back from the feeds (they were lost until each day's events were built again)."""
    config = copied
    events = "SELECT event_id, customer_id, customer_key, type FROM events ORDER BY ALL"
    assert not [r for r in q(config, events) if r[1] == "TEST9"]
    data = config.model_dump(mode="json", exclude={"base_dir"})
    data["identity"]["exclude"] = [{"property": "customuid", "op": "EQUALS", "value": "nobody"}]
    cfg = parse_config(data, tmp_path / "c.yaml", tmp_path)
    assert run_nightly(cfg, D1, assets=["customer_identities"]).success
    back = q(cfg, events)
    assert [(r[1], r[3]) for r in back if r[1] == "TEST9"] == [
        ("TEST9", "campaignOpened"),
        ("TEST9", "completedOrder"),
    ]
    assert run_nightly(cfg, D1, assets=["events"]).success  # as building the day again gives them
    assert q(cfg, events) == back


def test_an_exclusion_on_a_column_the_customer_data_lacks_fails_naming_it(copied, tmp_path):
    """A misspelt property used to exclude no one, silently: test accounts leaked into KPIs."""
    config = copied
    data = config.model_dump(mode="json", exclude={"base_dir"})
    data["identity"]["exclude"] = [{"property": "txt_segmnt", "op": "EQUALS", "value": "staff"}]
    cfg = parse_config(data, tmp_path / "c.yaml", tmp_path)
    result = run_nightly(cfg, D1, assets=["customer_identities"])
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    assert "identity.exclude[0].property: the customer data has no column 'txt_segmnt'" in message
    assert "customuid" in message  # the columns it does have


def test_stored_events_follow_a_customer_file_that_arrives_later(copied, tmp_path):
    config = copied
    assert q(config, "SELECT customer_id FROM events WHERE customer_key = $k", {"k": sha("z@x.com")}) == [
        (None,)
    ]
    (tmp_path / "files" / "customers_20260102.csv").write_text("customuid,email,idfa\nC7,z@x.com,\n")
    assert run_nightly(config, D1, assets=["customers", "customer_identities"]).success
    assert q(config, "SELECT customer_id FROM events WHERE customer_key = $k", {"k": sha("z@x.com")}) == [
        ("C7",)
    ]


def test_a_numeric_customer_field_matches(tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "customers_20260101.csv").write_text("customuid\n42\n7\n")
    (files / "pos_20260101.csv").write_text("buyer,day\n42,2026-01-01\n99,2026-01-01\n")
    data = {
        "start_date": "2026-01-01",
        "warehouse": "w.duckdb",
        "sources": [{"name": "landing", "kind": "local_files", "folder": "files"}],
        "customers": {"source": "landing", "file_name": "customers"},
        "transactions": [
            {
                "name": "pos",
                "source": "landing",
                "file_name": "pos",
                "customer_field": "buyer",
                "time_field": "day",
                "fields": [{"name": "buyer", "type": "Int"}, {"name": "day", "type": "Date"}],
            }
        ],
    }
    config = parse_config(data, tmp_path / "c.yaml", tmp_path)
    assert run_nightly(config, D1).success
    assert q(config, "SELECT customer_key, customer_id FROM events ORDER BY 1") == [
        ("42", "42"),
        ("99", None),
    ]


def _typed_world(tmp_path, exclude: list[dict]):
    """Customers with a number and a goal column (typed DOUBLE and BOOLEAN by ingestion), and their orders."""
    files = tmp_path / "files"
    files.mkdir(exist_ok=True)
    (files / "customers_20260101.csv").write_text(
        "customuid,num_age,goal_staff\nC1,12,0\nC2,30,1\nC3,12.0,\n"
    )
    (files / "pos_20260101.csv").write_text("buyer,day\nC1,2026-01-01\nC2,2026-01-01\nC3,2026-01-01\n")
    data = {
        "start_date": "2026-01-01",
        "warehouse": "w.duckdb",
        "sources": [{"name": "landing", "kind": "local_files", "folder": "files"}],
        "customers": {"source": "landing", "file_name": "customers"},
        "identity": {"exclude": exclude},
        "transactions": [
            {
                "name": "pos",
                "source": "landing",
                "file_name": "pos",
                "customer_field": "buyer",
                "time_field": "day",
                "fields": [{"name": "buyer", "type": "String"}, {"name": "day", "type": "Date"}],
            }
        ],
    }
    return parse_config(data, tmp_path / "c.yaml", tmp_path)


@pytest.mark.parametrize(
    ("exclude", "excluded"),
    [
        ({"property": "num_age", "op": "EQUALS", "value": "12"}, ["C1", "C3"]),  # as the file wrote them
        ({"property": "num_age", "op": "EQUALS", "value": "12.0"}, ["C1", "C3"]),
        ({"property": "goal_staff", "op": "EQUALS", "value": "1"}, ["C2"]),  # a goal is 1, 0 or empty
        ({"property": "goal_staff", "op": "EQUALS", "value": "true"}, ["C2"]),
    ],
)
def test_an_exclusion_equal_to_a_number_or_a_goal_compares_it_as_ingestion_types_the_column(
    tmp_path, exclude, excluded
):
    """`num_age EQUALS "12"` excluded no one: the number was compared as the text of a double ('12.0'),
    a goal as 'true' / 'false' where the customer files say 1 / 0."""
    config = _typed_world(tmp_path, [exclude])
    assert run_nightly(config, D1).success
    assert q(config, "SELECT DISTINCT customer_id FROM customer_identities WHERE excluded ORDER BY 1") == [
        (c,) for c in excluded
    ]
    kept = sorted({"C1", "C2", "C3"} - set(excluded))
    assert q(config, "SELECT customer_id FROM events ORDER BY 1") == [(c,) for c in kept]


def test_an_exclusion_value_that_is_not_of_the_columns_type_fails_naming_it(tmp_path):
    config = _typed_world(tmp_path, [{"property": "num_age", "op": "EQUALS", "value": "twelve"}])
    result = run_nightly(config, D1, assets=["customers", "customer_identities"])
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    assert "identity.exclude[0].value: 'twelve' is not a number" in message, message
