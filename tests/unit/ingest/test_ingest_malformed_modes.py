"""Customer data modes (create, update, overwrite) and a plain `email` column, which is hashed and
never stored."""

from __future__ import annotations

import datetime as dt
import hashlib

from pipeline.ingest.write import LOADED, LoadResult
from tests.unit.ingest.malformed_corpus import (
    DAY,
    PREV,
    World,
    check_failed,
    check_load,
    check_rejects,
    cjson,
)

# --------------------------------------------------------------------------------------------
# customers: modes
# --------------------------------------------------------------------------------------------

MODE_BASE = b"customuid,txt_city,num_age\nu1,Paris,30\nu2,Lyon,40\nu3,Nice,50\n"
MODE_BASE_ROWS = [("u1", "Paris", 30.0), ("u2", "Lyon", 40.0), ("u3", "Nice", 50.0)]
D1, D2, D3 = DAY - dt.timedelta(days=2), DAY - dt.timedelta(days=1), DAY


def load_mode_base(w: World, mode: str | None = None) -> LoadResult:
    r = w.load_customers("csv", MODE_BASE, day=D1, mode=mode)
    check_load(w, r, LOADED, 3, 3, 0)
    assert w.customers("customuid, txt_city, num_age") == MODE_BASE_ROWS
    return r


def check_mode_failure(
    w: World, r: LoadResult, day: dt.date, words: tuple[str, ...], before: list[tuple]
) -> None:
    check_failed(w, r, f"customers_{day:%Y%m%d}.csv", words)
    assert w.customer_snapshot() == before


def test_customers_mode_create_first_file_creates_the_data_set(world: World) -> None:
    base = load_mode_base(world, mode="create")
    assert world.q("SELECT customuid, _first_seen_at, _updated_at, _load_id FROM customers ORDER BY 1") == [
        ("u1", D1, D1, base.load_id),
        ("u2", D1, D1, base.load_id),
        ("u3", D1, D1, base.load_id),
    ]


def test_customers_mode_create_on_existing_data_set_fails(world: World) -> None:
    load_mode_base(world)
    before = world.customer_snapshot()
    r = world.load_customers("csv", b"customuid,txt_city,num_age\nu9,Rome,1\n", day=D2, mode="create")
    check_mode_failure(world, r, D2, ("create", "exists already"), before)


def test_customers_mode_update_with_other_columns_fails_naming_them(world: World) -> None:
    load_mode_base(world)
    before = world.customer_snapshot()
    r = world.load_customers("csv", b"customuid,txt_city,txt_segment\nu1,Rome,gold\n", day=D2, mode="update")
    check_mode_failure(world, r, D2, ("update", "missing ['num_age']", "['txt_segment']"), before)


def test_customers_mode_update_with_an_extra_column_fails(world: World) -> None:
    load_mode_base(world)
    before = world.customer_snapshot()
    r = world.load_customers(
        "csv", b"customuid,txt_city,num_age,txt_segment\nu1,Rome,1,gold\n", day=D2, mode="update"
    )
    check_mode_failure(world, r, D2, ("missing []", "['txt_segment']", "overwrite"), before)


def test_customers_mode_update_upserts(world: World) -> None:
    base = load_mode_base(world)
    # same columns in another order; u2 changes, u4 is new, u3's row is rejected (keeps its old values)
    r = world.load_customers(
        "csv", b"num_age,customuid,txt_city\n41,u2,Bordeaux\n20,u4,Lille\nold,u3,Metz\n", day=D2
    )
    check_load(world, r, LOADED, 3, 2, 1)
    check_rejects(world, r, {3: ("num_age", ("'old'",))})
    assert world.q(
        "SELECT customuid, txt_city, num_age, _first_seen_at, _updated_at, _load_id FROM customers ORDER BY 1"
    ) == [
        ("u1", "Paris", 30.0, D1, D1, base.load_id),
        ("u2", "Bordeaux", 41.0, D1, D2, r.load_id),
        ("u3", "Nice", 50.0, D1, D1, base.load_id),
        ("u4", "Lille", 20.0, D2, D2, r.load_id),
    ]


def test_customers_mode_overwrite_may_add_a_column(world: World) -> None:
    load_mode_base(world)
    r = world.load_customers(
        "csv",
        b"customuid,txt_city,num_age,txt_segment\nu2,Brest,42,gold\nu5,Metz,22,silver\n",
        day=D3,
        mode="overwrite",
    )
    check_load(world, r, LOADED, 2, 2, 0)
    check_rejects(world, r, {})
    assert world.q(
        "SELECT customuid, txt_city, num_age, txt_segment, _first_seen_at, _updated_at, _load_id "
        "FROM customers ORDER BY 1"
    ) == [
        ("u2", "Brest", 42.0, "gold", D1, D3, r.load_id),  # stays: _first_seen_at kept
        ("u5", "Metz", 22.0, "silver", D3, D3, r.load_id),  # new
    ]  # u1 and u3 are not in the file: gone


def test_customers_mode_overwrite_may_not_drop_a_column(world: World) -> None:
    load_mode_base(world)
    before = world.customer_snapshot()
    r = world.load_customers("csv", b"customuid,txt_city\nu1,Rome\n", day=D2, mode="overwrite")
    check_mode_failure(world, r, D2, ("overwrite", "missing ['num_age']"), before)
    assert world.customers("customuid, txt_city, num_age") == MODE_BASE_ROWS


def test_customers_mode_from_config_is_used_by_default(world: World) -> None:
    spec = world.cfg.customers.model_copy(update={"mode": "create"})
    r = world.load_customers("csv", MODE_BASE, day=D1, spec=spec)
    check_load(world, r, LOADED, 3, 3, 0)
    before = world.customer_snapshot()
    r = world.load_customers("csv", b"customuid,txt_city,num_age\nu9,Rome,1\n", day=D2, spec=spec)
    check_mode_failure(world, r, D2, ("create",), before)


# --------------------------------------------------------------------------------------------
# customers: a plain `email` column is hashed and never stored
# --------------------------------------------------------------------------------------------


def sha(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()


def scan_warehouse(w: World, needles: list[str]) -> dict[str, list[str]]:
    """Where each needle (case-insensitive) appears: 'table.column' of every column of every table."""
    hits: dict[str, list[str]] = {n: [] for n in needles}
    con = w.con
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main' "
        "ORDER BY table_name, ordinal_position"
    ).fetchall()
    assert {t for t, _ in columns} >= {"customers", "rejects", "loads"}
    for table, column in columns:
        for needle in needles:
            n = con.execute(
                f'SELECT count(*) FROM "{table}" WHERE strpos(lower(CAST("{column}" AS VARCHAR)), ?) > 0',
                [needle.lower()],
            ).fetchall()[0][0]
            if n:
                hits[needle].append(f"{table}.{column}")
    return hits


PLAIN = [
    "alice.smith@example.com",
    "a@x.com",
    "b@y.com",
    "dave@z.com",
    "erin@q.com",
    "frank@w.com",
    "gina@h.com",
]


def test_customers_email_is_hashed_and_never_stored_csv(world: World) -> None:
    data = (
        b"customuid,email,txt_city,num_age\n"
        b"u1, Alice.Smith@Example.COM ,Paris,30\n"
        b'u2,"a@x.com, B@Y.com",Lyon,40\n'
        b"u3,dave@z.com,Nice,old\n"  # rejected: num_age
        b"u1,erin@q.com,Metz,20\n"  # rejected: duplicate customuid
        b"u4,frank@w.com,Brest,20,extra\n"  # rejected: columns
        b"u5,,Lille,\n"
        b'u6,"gina@h.com,Rome,1\n'  # rejected: unterminated quote
    )
    r = world.load_customers("csv", data)
    check_load(world, r, LOADED, 7, 3, 4)
    check_rejects(
        world,
        r,
        {3: ("num_age", ("'old'",)), 4: ("customuid", ("'u1'",)), 5: ("columns", ()), 7: ("row", ("quote",))},
    )
    assert world.q("SELECT customuid, emailsha256, txt_city, num_age FROM customers ORDER BY 1") == [
        ("u1", sha("Alice.Smith@Example.COM"), "Paris", 30.0),
        ("u2", sha("a@x.com") + "," + sha("b@y.com"), "Lyon", 40.0),
        ("u5", None, "Lille", None),
    ]
    assert "email" not in {
        c
        for (c,) in world.q(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'customers'"
        )
    }
    hits = scan_warehouse(world, [*PLAIN, "Paris"])
    assert hits.pop("Paris") == ["customers.txt_city"]  # the scan does find plain text
    assert hits == {p: [] for p in PLAIN}


def test_customers_email_is_hashed_and_never_stored_json(world: World) -> None:
    data = cjson(
        ["customuid", "email", "txt_city", "num_age"],
        [
            ["u1", " Alice.Smith@Example.COM ", "Paris", 30],
            ["u2", "a@x.com, B@Y.com"],  # rejected: wrong length
            ["u3", "dave@z.com", "Nice", "old"],  # rejected: num_age
            ["u4", "erin@q.com,, frank@w.com ,", "Metz", 1],
        ],
    )
    r = world.load_customers("json", data)
    check_load(world, r, LOADED, 4, 2, 2)
    check_rejects(world, r, {2: ("columns", ("found 2",)), 3: ("num_age", ("'old'",))})
    assert world.q("SELECT customuid, emailsha256, txt_city, num_age FROM customers ORDER BY 1") == [
        ("u1", sha("alice.smith@example.com"), "Paris", 30.0),
        ("u4", sha("erin@q.com") + "," + sha("frank@w.com"), "Metz", 1.0),
    ]
    hits = scan_warehouse(world, [*PLAIN, "Paris"])
    assert hits.pop("Paris") == ["customers.txt_city"]
    assert hits == {p: [] for p in PLAIN}


def test_customers_email_then_update_with_email_again(world: World) -> None:
    r1 = world.load_customers("csv", b"customuid,email\nu1,old@x.com\nu2,keep@x.com\n", day=PREV)
    check_load(world, r1, LOADED, 2, 2, 0)
    r2 = world.load_customers("csv", b"customuid,email\nu1,NEW@x.com\n", day=DAY)
    check_load(world, r2, LOADED, 1, 1, 0)
    assert world.q("SELECT customuid, emailsha256 FROM customers ORDER BY 1") == [
        ("u1", sha("new@x.com")),
        ("u2", sha("keep@x.com")),
    ]
    assert scan_warehouse(world, ["old@x.com", "keep@x.com", "new@x.com"]) == {
        "old@x.com": [],
        "keep@x.com": [],
        "new@x.com": [],
    }
