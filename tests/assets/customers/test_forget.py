"""`nightjar forget`: a customer leaves every customer-keyed table, in one transaction, logged
without the identifier. The tables are enumerated from the warehouse itself, never from a list."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil

import duckdb
import pytest

from pipeline.cli import main, write_demo_config
from pipeline.config import load_config
from pipeline.core.catalog import register_customer_table
from pipeline.core.parts import PARTS
from pipeline.core.warehouse import connect, table_exists
from pipeline.customers import forget
from pipeline.customers.events import build_events
from pipeline.customers.forget import CustomerNotFound, forget_customer, unregistered_customer_tables
from pipeline.customers.identity import build_identities
from pipeline.demo import generate_world
from pipeline.ingest.customers import ingest_customers
from pipeline.ingest.sources.local_files import landed_file
from pipeline.ingest.transactions import ingest_transaction
from tests.conftest import example_dict, make_config, run_nightly, write_pos

START = dt.date(2026, 1, 1)


# --- looking at the warehouse from the outside ------------------------------------------------


def tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
    ]


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """Rows and a checksum of the content of every table."""
    return {
        t: tuple(
            con.execute(
                f'SELECT count(*), coalesce(sum(hash(to_json(x)::VARCHAR)), 0) FROM "{t}" x'
            ).fetchall()[0]
        )
        for t in tables(con)
    }


def holding(con: duckdb.DuckDBPyConnection, terms: set[str]) -> dict[str, int]:
    """Per table, the rows any of whose cells holds one of ``terms`` as a whole word (case ignored)."""
    pattern = "(^|[^a-z0-9])(" + "|".join(re.escape(t.lower()) for t in sorted(terms)) + ")($|[^a-z0-9])"
    return {
        t: con.execute(
            f'SELECT count(*) FROM "{t}" x WHERE regexp_matches(lower(to_json(x)::VARCHAR), $p)',
            {"p": pattern},
        ).fetchall()[0][0]
        for t in tables(con)
    }


def identifiers(con: duckdb.DuckDBPyConnection, customer_id: str) -> set[str]:
    """The customer id and every identifier value the warehouse holds for the customer."""
    values = {customer_id}
    for cells in con.execute(
        "SELECT customuid, emailsha256, idfa FROM customers WHERE customuid = $c", {"c": customer_id}
    ).fetchall():
        values |= {v.strip() for cell in cells if cell for v in cell.split(",") if v.strip()}
    values |= {
        r[0]
        for r in con.execute(
            "SELECT value FROM customer_identities WHERE customer_id = $c", {"c": customer_id}
        ).fetchall()
    }
    return values


def keyed_columns(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """Every customer-keyed (table, column): the registry plus every customer_id/customuid column."""
    registry = con.execute("SELECT table_name, column_name FROM customer_tables").fetchall()
    named = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND column_name IN ('customer_id', 'customuid')"
    ).fetchall()
    return set(registry) | set(named)


def rows_keyed_by(con: duckdb.DuckDBPyConnection, terms: set[str]) -> dict[tuple[str, str], int]:
    """Per customer-keyed column, the rows whose (multi-value) cell holds one of ``terms``."""
    lowered = sorted(t.lower() for t in terms)
    return {
        (t, c): con.execute(
            f"""SELECT count(*) FROM "{t}" WHERE list_has_any(
                    list_transform(string_split(lower(CAST("{c}" AS VARCHAR)), ','), lambda v: trim(v)),
                    $terms)""",
            {"terms": lowered},
        ).fetchall()[0][0]
        for t, c in keyed_columns(con)
    }


def temp_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()]


def log_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    if not table_exists(con, "forget_log"):
        return []
    return con.execute(
        "SELECT forgotten_at, identifier_kind, rows_deleted::VARCHAR FROM forget_log ORDER BY 1"
    ).fetchall()


# --- the demo world, built once ----------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    generate_world(out, customers=200, days=3, start=START)
    # without the demo's models (tests/assets/models/test_models.py covers them, forget included)
    config = load_config(write_demo_config(out, START)).model_copy(update={"models": []})
    result = run_nightly(config, START, START + dt.timedelta(days=2))
    assert result.success
    return config


@pytest.fixture
def warehouse(demo, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(demo.warehouse_path, path)
    return path


def busy_customer(con, where: str = "true") -> str:
    """The customer with the most events among those matching ``where`` (over customers c)."""
    return con.execute(
        f"""SELECT c.customuid FROM customers c JOIN events e ON e.customer_id = c.customuid
            WHERE {where} GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"""
    ).fetchall()[0][0]


def assert_forgotten(con, before: dict, held: dict, result, terms: set[str]) -> None:
    """Exactly the rows that held the customer are gone; nothing else changed; none is left."""
    after = snapshot(con)
    for t in before:
        if t in ("forget_log", "forget_pending", PARTS):  # bookkeeping: the log, the forgets to publish,
            # the recorded fingerprints of days
            continue
        assert before[t][0] - after[t][0] == held[t], (
            f"{t}: deleted {before[t][0] - after[t][0]}, held {held[t]}"
        )
        if held[t] == 0:
            assert after[t] == before[t], f"{t} changed though it held nothing of the customer"
        assert result.rows_deleted.get(t, 0) == held[t], t
    assert not any(holding(con, terms).values()), holding(con, terms)
    assert not any(rows_keyed_by(con, terms).values())


def test_forget_by_customer_id_and_by_email_hash_leaves_no_row_anywhere(demo, warehouse):
    with connect(warehouse) as con:
        core = {"customers", "customer_identities", "events"} | {t.table for t in demo.transactions}
        assert core <= {t for t, _ in keyed_columns(con)}
        assert not core & set(unregistered_customer_tables(con)), (
            "the pipeline's own tables register themselves"
        )
        # One customer whose id is in a rejected row too, one whose IDFA cell holds two values.
        by_id = busy_customer(con, "EXISTS (SELECT 1 FROM rejects r WHERE contains(r.raw_row, c.customuid))")
        by_hash = busy_customer(
            con, f"c.idfa LIKE '%,%' AND c.emailsha256 IS NOT NULL AND c.customuid <> '{by_id}'"
        )
        email_hash = con.execute(
            "SELECT emailsha256 FROM customers WHERE customuid = $c", {"c": by_hash}
        ).fetchall()[0][0]
        terms_id, terms_hash = identifiers(con, by_id), identifiers(con, by_hash)
        assert len(terms_hash) >= 5  # id, customuid, e-mail hash, two IDFAs

        before, held = snapshot(con), holding(con, terms_id)
        assert held["customers"] == 1 and held["events"] > 0 and held["rejects"] >= 1
        result = forget_customer(con, demo, by_id)
        assert (result.identifier_kind, result.customers, result.shared_identifiers_kept) == (
            "customer_id",
            1,
            0,
        )
        assert result.total == sum(held.values())
        assert_forgotten(con, before, held, result, terms_id)

        before, held = snapshot(con), holding(con, terms_hash)
        assert held["customers"] == 1 and held["events"] > 0
        result = forget_customer(con, demo, email_hash.upper(), "emailsha256")  # compared lower-cased
        assert (result.identifier_kind, result.customers) == ("emailsha256", 1)
        assert_forgotten(con, before, held, result, terms_hash)

        log = log_rows(con)
        assert [kind for _, kind, _ in log] == ["customer_id", "emailsha256"]
        assert json.loads(log[1][2]) == result.rows_deleted
        log_text = json.dumps([list(map(str, r)) for r in log]).lower()
        assert not [t for t in terms_id | terms_hash if t.lower() in log_text], "the log holds an identifier"
        assert temp_tables(con) == [], "no working table (with identifiers) outlives the call"


def test_tables_added_later_are_forgotten_registered_or_not(demo, warehouse):
    with connect(warehouse) as con:
        who = busy_customer(con, "c.emailsha256 IS NOT NULL")
        # A later output that registers nothing: found by its customer_id column (the safety net).
        con.execute("CREATE TABLE later_scores (customer_id VARCHAR, model VARCHAR, score DOUBLE)")
        con.execute(
            "INSERT INTO later_scores "
            "SELECT customuid, m, 0.5 FROM customers, (VALUES ('churn'), ('buy')) v(m)"
        )
        # A later table keyed by an identifier kind: it must register, and then is forgotten.
        con.execute("CREATE TABLE email_scores (email_hash VARCHAR, score DOUBLE)")
        con.execute(
            "INSERT INTO email_scores "
            "SELECT upper(e), 1.0 FROM customers, unnest(string_split(emailsha256, ',')) t(e)"
        )
        register_customer_table(con, "email_scores", "email_hash", "emailsha256")
        register_customer_table(con, "email_scores", "email_hash", "emailsha256")  # idempotent
        assert con.execute(
            "SELECT count(*) FROM customer_tables WHERE table_name = 'email_scores'"
        ).fetchall() == [(1,)]
        with pytest.raises(ValueError, match="key_kind 'phone'"):
            register_customer_table(con, "email_scores", "phone", "phone")
        assert "later_scores" in unregistered_customer_tables(con)
        assert "email_scores" not in unregistered_customer_tables(con)

        terms = identifiers(con, who)
        before, held = snapshot(con), holding(con, terms)
        assert held["later_scores"] == 2 and held["email_scores"] == 1
        result = forget_customer(con, demo, who, "customer_id")
        assert result.rows_deleted["later_scores"] == 2 and result.rows_deleted["email_scores"] == 1
        assert_forgotten(con, before, held, result, terms)


def test_an_unknown_customer_is_an_error_and_changes_nothing(demo, warehouse):
    with connect(warehouse) as con:
        before = snapshot(con)
        with pytest.raises(CustomerNotFound, match="nothing was changed"):
            forget_customer(con, demo, "C999999")
        with pytest.raises(CustomerNotFound):
            forget_customer(con, demo, "nobody@example.com", "email")
        with pytest.raises(CustomerNotFound):  # a real customer_id, asked for as another kind
            forget_customer(con, demo, busy_customer(con), "idfa")
        with pytest.raises(ValueError):
            forget_customer(con, demo, "   ")
        with pytest.raises(ValueError, match="kind 'phone'"):
            forget_customer(con, demo, "C000001", "phone")
        assert snapshot(con) == before
        assert not table_exists(con, "forget_log") and temp_tables(con) == []


def test_a_failure_inside_the_transaction_leaves_every_table_as_it_was(demo, warehouse, monkeypatch):
    real, deleted = forget._delete_rows, []

    def delete_then_fail(con, table, cs):
        deleted.append(real(con, table, cs))
        if deleted[-1]:
            raise RuntimeError("disk full")
        return deleted[-1]

    with connect(warehouse) as con:
        who, before = busy_customer(con), snapshot(con)
        monkeypatch.setattr(forget, "_delete_rows", delete_then_fail)
        with pytest.raises(RuntimeError, match="disk full"):
            forget_customer(con, demo, who)
        assert deleted and deleted[-1] > 0  # it failed after a delete had happened
        assert snapshot(con) == before
        assert not table_exists(con, "forget_log") and temp_tables(con) == []
        monkeypatch.undo()
        assert forget_customer(con, demo, who).customers == 1  # the connection is still usable


def test_cli_forgets_by_plain_email_and_says_when_there_is_no_such_customer(demo, warehouse, capsys):
    doc = json.loads((demo.base_dir / "files" / "customers_20260101.json").read_text())
    email = next(
        row[1] for row in doc["data"] if row[1] and row[1] != row[1].lower()
    )  # e.g. Jonas.Weber26@Example.Com
    cfg = str(demo.base_dir / "nightjar.yaml")
    args = ["--config", cfg, "--warehouse", str(warehouse)]
    assert main(["forget", email, "--kind", "email", *args]) == 0
    out = capsys.readouterr().out
    assert "Forgot 1 customer(s) (by email)" in out and "| customers | 1 |" in out and "| events |" in out
    assert main(["forget", email, "--kind", "email", *args]) == 1
    assert "not found: no customer and no row of the warehouse holds that email" in capsys.readouterr().err
    assert main(["forget", email, *args]) == 1  # without --kind, an address with @ is tried as a plain e-mail
    capsys.readouterr()
    assert (
        main(["forget", "C000001", "--config", cfg, "--warehouse", str(warehouse.parent / "none.duckdb")])
        == 1
    )
    assert "does not exist" in capsys.readouterr().err
    with connect(warehouse, read_only=True) as con:
        assert [kind for _, kind, _ in log_rows(con)] == ["email"]


# --- a hand-built world: shared identifiers, anonymous events, case sensitivity ------------------


def h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


H1, H2, H3, HS, HX = h("one@x"), h("two@x"), h("three@x"), h("shared@x"), h("later@x")


def hand_world(tmp_path, case_sensitive: bool = False):
    """C1 and C2 share the e-mail hash HS (C1 wins it); the feed is keyed by customuid or e-mail hash.

    After the nightly run C1's record gains HX, which an anonymous event held; the identity
    rebuild gives that event to C1.
    """
    pos = next(t for t in example_dict()["transactions"] if t["name"] == "pos")
    config = make_config(
        tmp_path,
        transactions=[{**pos, "customer_key": ["customuid", "emailsha256"]}],
        identity={"match_on": ["customuid", "emailsha256"], "case_sensitive": case_sensitive},
    )
    files = tmp_path / "files"
    (files / "customers_20260101.csv").write_text(
        f'customuid,emailsha256,idfa\nC1,"{H1},{HS}",\nC2,"{H2},{HS}",\nC3,{H3},\n'
    )
    write_pos(
        files,
        START,
        [
            "O1,C1,S1,P1,1,1",
            f"O2,{H1.upper()},S1,P1,1,2",
            f"O3,{HX},S1,P1,1,3",
            f"O4,{H2},S1,P1,1,4",
            f"O5,{HS},S1,P1,1,5",
            "O6,C2,S1,P1,1,6",
            "O7,c1,S1,P1,1,7",
            f"O8,{H3},S1,P1,1,8",
        ],
    )
    assert run_nightly(config, START, assets=["customers", "tx_pos", "customer_identities", "events"]).success
    later = tmp_path / "customers_20260102.csv"
    later.write_text(f'customuid,emailsha256,idfa\nC1,"{H1},{HS},{HX}",\n')
    with connect(config.warehouse_path) as con:
        assert (
            ingest_customers(
                con, config.customers, "test", landed_file(later, START + dt.timedelta(days=1))
            ).status
            == "LOADED"
        )
        build_identities(con, config)  # the map re-points the stored events: O3 is C1's now
        assert con.execute(
            "SELECT customer_id FROM events WHERE customer_key = $k", {"k": HX}
        ).fetchall() == [("C1",)]
    return config


@pytest.fixture(scope="module")
def hand_built(tmp_path_factory):
    """The hand-built world (case-insensitive matching), built once."""
    return hand_world(tmp_path_factory.mktemp("hand"))


@pytest.fixture
def hand(hand_built, tmp_path):
    """A copy of the hand-built world (config, files, warehouse) in tmp_path: each test forgets in its own."""
    shutil.copytree(hand_built.base_dir, tmp_path, symlinks=True, dirs_exist_ok=True)
    return load_config(tmp_path / "nightjar.yaml")


def orders(con, table: str = "tx_pos") -> set[str]:
    if table == "events":
        return {
            r[0]
            for r in con.execute(
                "SELECT json_extract_string(properties, '$.order_id') FROM events"
            ).fetchall()
        }
    return {r[0] for r in con.execute("SELECT order_id FROM tx_pos").fetchall()}


def customers(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT customuid FROM customers").fetchall()}


def test_forgetting_a_customer_takes_their_keyed_and_anonymous_rows_but_no_other_customers(hand):
    config = hand
    with connect(config.warehouse_path) as con:
        c2_identities = con.execute(
            "SELECT count(*) FROM customer_identities WHERE customer_id = 'C2'"
        ).fetchall()
        result = forget_customer(con, config, "C1")
        assert (result.customers, result.shared_identifiers_kept) == (
            1,
            0,
        )  # C1 wins HS: rows keyed by it were C1's
        assert customers(con) == {"C2", "C3"}
        # O1 (C1), O2 (C1's hash, upper-cased), O3 (anonymous, HX), O5 (HS, C1's), O7 (c1) are gone.
        assert orders(con) == orders(con, "events") == {"O4", "O6", "O8"}
        assert con.execute(
            "SELECT count(*) FROM customer_identities WHERE customer_id = 'C1'"
        ).fetchall() == [(0,)]
        assert (
            con.execute("SELECT count(*) FROM customer_identities WHERE customer_id = 'C2'").fetchall()
            == c2_identities
        )
        # C2's record keeps the hash it shares with C1: it is C2's row.
        assert HS in con.execute("SELECT emailsha256 FROM customers WHERE customuid = 'C2'").fetchall()[0][0]


def test_an_identifier_shared_with_a_customer_who_stays_is_kept(hand):
    config = hand
    with connect(config.warehouse_path) as con:
        result = forget_customer(con, config, "C2", "customer_id")
        assert (result.customers, result.shared_identifiers_kept) == (1, 1)  # HS: C1 wins it and stays
        assert customers(con) == {"C1", "C3"}
        assert orders(con) == {"O1", "O2", "O3", "O5", "O7", "O8"}  # O4 (H2) and O6 (C2) are gone
        assert con.execute(
            "SELECT count(*) FROM customer_identities WHERE customer_id = 'C2'"
        ).fetchall() == [(0,)]


def test_forgetting_by_a_shared_identifier_forgets_every_customer_that_holds_it(hand):
    config = hand
    with connect(config.warehouse_path) as con:
        result = forget_customer(con, config, f"  {HS.upper()} ")
        assert (result.identifier_kind, result.customers) == ("emailsha256", 2)
        assert customers(con) == {"C3"}
        assert orders(con) == orders(con, "events") == {"O8"}


def test_case_sensitive_matching_forgets_only_exact_identifiers(tmp_path):
    config = hand_world(tmp_path, case_sensitive=True)
    with connect(config.warehouse_path) as con:
        # Case-sensitive: 'c1' and the upper-cased H1 point at no one, so they are not C1's.
        result = forget_customer(con, config, "C1")
        assert orders(con) == {"O2", "O4", "O6", "O7", "O8"}
        # 'c1' belongs to no customer; its rows (the anonymous order O7) can still be forgotten.
        result = forget_customer(con, config, "c1", "customuid")
        assert (result.customers, result.identifier_kind) == (0, "customuid")
        assert orders(con) == orders(con, "events") == {"O2", "O4", "O6", "O8"}


def excluded_world(tmp_path, customer_key: str | list[str]):
    """The test account TEST1 (excluded by the example's filter) and the real customer Z9 share the
    e-mail hash HS, which identity matching gives to Z9; the feed's O1 is keyed by HS, O2 by Z9's
    own hash H2."""
    pos = next(t for t in example_dict()["transactions"] if t["name"] == "pos")
    config = make_config(tmp_path, START, transactions=[{**pos, "customer_key": customer_key}])
    files = tmp_path / "files"
    crm = files / "customers_20260101.csv"
    crm.write_text(f'customuid,emailsha256,idfa\nTEST1,{HS},\nZ9,"{HS},{H2}",\n')
    write_pos(files, START, [f"O1,{HS},S1,P1,1,10", f"O2,{H2},S1,P1,1,5"])
    with connect(config.warehouse_path) as con:
        assert ingest_customers(con, config.customers, "test", landed_file(crm, START)).status == "LOADED"
        pos_file = landed_file(files / "trans_pos_20260101.csv", START)
        assert ingest_transaction(con, config.transaction("pos"), "test", pos_file, START).status == "LOADED"
        build_identities(con, config)
        build_events(con, config, START)
        assert con.execute("SELECT customer_id FROM events").fetchall() == [("Z9",), ("Z9",)]
    return config


def test_forgetting_a_test_account_keeps_the_rows_of_an_identifier_identity_matching_gives_another(
    tmp_path,
):
    """HS is Z9's (the smallest customer_id not excluded), as identity matching says: forgetting
    the test account TEST1 keeps Z9's order keyed by it, also when the day is rebuilt."""
    config = excluded_world(tmp_path, ["emailsha256", "customuid"])
    with connect(config.warehouse_path) as con:
        result = forget_customer(con, config, "TEST1", "customer_id")
        assert (result.customers, result.shared_identifiers_kept) == (1, 1)
        assert orders(con) == orders(con, "events") == {"O1", "O2"}
        build_events(con, config, START)  # the day rebuilt
        assert orders(con, "events") == {"O1", "O2"}


def test_forgetting_the_customer_identity_matching_gives_a_shared_identifier_takes_its_rows(tmp_path):
    """HS, shared with the excluded TEST1, is Z9's: forgetting Z9 takes the order keyed by it, also
    from a feed keyed by e-mail hash alone."""
    config = excluded_world(tmp_path, "emailsha256")
    with connect(config.warehouse_path) as con:
        result = forget_customer(con, config, "Z9", "customer_id")
        assert (result.customers, result.shared_identifiers_kept) == (1, 0)
        assert orders(con) == orders(con, "events") == set()


def files_holding(root, terms: set[str], skip=()) -> dict[str, list[str]]:
    """Every file under ``root`` (but the folders ``skip``) whose bytes hold one of ``terms`` (case
    ignored)."""
    found: dict[str, list[str]] = {}
    wanted = {t: t.lower().encode() for t in terms}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not set(skip) & set(p.parents)):
        data = path.read_bytes().lower()
        hits = [t for t, b in wanted.items() if b in data]
        if hits:
            found[str(path.relative_to(root))] = hits
    return found


def test_forget_compact_leaves_no_trace_in_any_file_of_the_project(tmp_path):
    """The warehouse file (rewritten) and Dagster's own storage (metadata previews and reject examples
    are written without identifiers) hold no byte of a forgotten customer; only the landing files do,
    which the README says to remove at the source."""
    import dagster as dg

    generate_world(tmp_path, customers=40, days=1, start=START)
    config = load_config(write_demo_config(tmp_path, START)).model_copy(update={"models": []})
    (tmp_path / "dagster_home").mkdir()
    with dg.DagsterInstance.local_temp(tempdir=str(tmp_path / "dagster_home")) as instance:
        assert run_nightly(config, START, instance=instance).success
    with connect(config.warehouse_path, read_only=True) as con:
        who = busy_customer(con, "c.emailsha256 IS NOT NULL AND c.idfa IS NOT NULL")
        terms = {t for t in identifiers(con, who) if len(t) >= 6}
    # the landing files, and the demo world's truth (the generator's, not the project's)
    outside = (tmp_path / "files", tmp_path / "truth")
    assert files_holding(tmp_path, terms, outside).keys() >= {"warehouse.duckdb"}
    cfg = ["--config", str(tmp_path / "nightjar.yaml")]
    assert main(["forget", who, "--kind", "customer_id", "--compact", *cfg]) == 0
    assert files_holding(tmp_path, terms, outside) == {}
    assert files_holding(tmp_path / "files", terms)  # the test does see them where they still are
    with connect(config.warehouse_path, read_only=True) as con:  # the rewritten file is whole
        assert con.execute("SELECT count(*) FROM customers WHERE customuid = $c", {"c": who}).fetchall() == [
            (0,)
        ]
        assert [kind for _, kind, _ in log_rows(con)] == ["customer_id"]
