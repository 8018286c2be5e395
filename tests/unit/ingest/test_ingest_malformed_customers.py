"""Malformed customer files through the one ingestion path: files that load (in update mode on top
of an existing data set) and files that cannot be loaded (the data set stays as it was)."""

from __future__ import annotations

import pytest

from pipeline.ingest.customers import files_to_apply
from pipeline.ingest.sources.local_files import list_files
from pipeline.ingest.write import LOADED, PROCESSED
from tests.unit.ingest.malformed_corpus import (
    CUSTOMER_COLUMNS,
    CUSTOMER_HEADER_LIST,
    CUSTOMERS_BASE_ROWS,
    CUSTOMERS_HEADER,
    DAY,
    LATIN1_CUSTOMERS,
    CustomerCase,
    FailCase,
    World,
    _truncated_gzip,
    check_failed,
    check_load,
    check_rejects,
    cjson,
    epoch,
    load_customer_base,
    ts,
)

CUSTOMER_CASES = [
    CustomerCase("csv_header_only", "csv", CUSTOMERS_HEADER, PROCESSED, 0, 0, 0),
    CustomerCase("json_no_data_rows", "json", cjson(CUSTOMER_HEADER_LIST, []), PROCESSED, 0, 0, 0),
    CustomerCase(
        "csv_utf8_bom",
        "csv",
        b"\xef\xbb\xbf" + CUSTOMERS_HEADER + b"u1,Nice,25,,,\n",
        LOADED,
        1,
        1,
        0,
        rows=[("u1", "Nice", 25.0, None, None, None)],
    ),
    CustomerCase(
        "csv_crlf_line_ends",
        "csv",
        (CUSTOMERS_HEADER + b'u1,Nice,25,"golf, chess",1,0\nu2,Metz,x,,,\nu3,Brest,,tennis,,\n').replace(
            b"\n", b"\r\n"
        ),
        LOADED,
        3,
        2,
        1,
        rejects={2: ("num_age", ("'x'", "number"))},
        rows=[
            ("u1", "Nice", 25.0, ["golf", "chess"], True, None),
            ("u3", "Brest", None, ["tennis"], None, None),
        ],
    ),
    CustomerCase(
        "csv_latin1_bytes_in_utf8_dataset",
        "csv",
        LATIN1_CUSTOMERS,
        LOADED,
        2,
        1,
        1,
        rejects={1: ("encoding", ("utf-8", "latin-1"))},
        rows=[("u2", "Metz", 26.0, None, None, None)],
    ),
    # a blank line as well: the record numbers still skip it (u2 is record 2)
    CustomerCase(
        "csv_blank_line_and_latin1_bytes_in_utf8_dataset",
        "csv",
        CUSTOMERS_HEADER + b"\nu1,Metz,25,,,\nu2,Caf\xe9,26,,,\nu3,Lyon,27,,,\n",
        LOADED,
        3,
        2,
        1,
        rejects={2: ("encoding", ("utf-8", "latin-1"))},
        rows=[("u1", "Metz", 25.0, None, None, None), ("u3", "Lyon", 27.0, None, None, None)],
    ),
    CustomerCase(
        "csv_latin1_file_in_latin1_dataset",
        "csv",
        LATIN1_CUSTOMERS,
        LOADED,
        2,
        2,
        0,
        rows=[("u1", "Café", 25.0, ["crème"], None, None), ("u2", "Metz", 26.0, None, None, None)],
        spec={"encoding": "latin-1"},
    ),
    CustomerCase(
        "csv_quoted_multiline_cell",
        "csv",
        CUSTOMERS_HEADER + b'u1,"Saint-\nDenis",25,,,\nu2,Metz,26,,,,x\nu3,"Le ""Mans""",27,,,\n',
        LOADED,
        3,
        2,
        1,
        rejects={2: ("columns", ("6", "7"))},
        rows=[("u1", "Saint-\nDenis", 25.0, None, None, None), ("u3", 'Le "Mans"', 27.0, None, None, None)],
    ),
    CustomerCase(
        "csv_duplicate_customuid",
        "csv",
        CUSTOMERS_HEADER + b"u1,Nice,25,,,\nu2,Metz,26,,,\nu1,Lille,27,,,\np1,Rome,1,,,\np1,Oslo,2,,,\n",
        LOADED,
        5,
        3,
        2,
        rejects={3: ("customuid", ("'u1'", "again", "row 1")), 5: ("customuid", ("'p1'", "again", "row 4"))},
        rows=[
            ("p1", "Rome", 1.0, None, None, None),
            ("u1", "Nice", 25.0, None, None, None),
            ("u2", "Metz", 26.0, None, None, None),
        ],
    ),
    # the first u1 row is rejected for its age: the second is the first good one and is applied (a
    # rejected row takes no part in the duplicate check); the third u1 row repeats that good one
    CustomerCase(
        "csv_duplicate_customuid_after_a_rejected_row",
        "csv",
        CUSTOMERS_HEADER + b"u1,Nice,old,,,\nu1,Lille,27,,,\nu1,Metz,28,,,\n",
        LOADED,
        3,
        1,
        2,
        rejects={1: ("num_age", ("'old'", "number")), 3: ("customuid", ("'u1'", "again", "row 2"))},
        rows=[("u1", "Lille", 27.0, None, None, None)],
    ),
    CustomerCase(
        "csv_text_in_number_goal_and_goal_timestamp",
        "csv",
        CUSTOMERS_HEADER
        + b"u1,Nice,old,,,\nu2,Metz,26,,yes,\nu3,Lyon,27,,1,2026-01-31\nu4,Brest,28.5,,0,%d\n"
        % epoch(2026, 1, 31, 9),
        LOADED,
        4,
        1,
        3,
        rejects={
            1: ("num_age", ("'old'", "number")),
            2: ("goal_newsletter", ("'yes'", "1, 0 or empty")),
            3: ("goal_newsletter_timestamp", ("'2026-01-31'", "unix")),
        },
        rows=[("u4", "Brest", 28.5, None, False, ts(2026, 1, 31, 9))],
    ),
    CustomerCase(
        "csv_missing_customuid",
        "csv",
        CUSTOMERS_HEADER + b',Nice,25,,,\n   ,Metz,26,,,\n"",Lyon,27,,,\nu4,Brest,28,,,\n',
        LOADED,
        4,
        1,
        3,
        rejects={
            1: ("customuid", ("missing",)),
            2: ("customuid", ("missing",)),
            3: ("customuid", ("missing",)),
        },
        rows=[("u4", "Brest", 28.0, None, None, None)],
    ),
    CustomerCase(
        "csv_row_with_wrong_column_count",
        "csv",
        CUSTOMERS_HEADER + b"u1,Nice,25\nu2,Metz,26,,,\n",
        LOADED,
        2,
        1,
        1,
        rejects={1: ("columns", ("6", "3"))},
        rows=[("u2", "Metz", 26.0, None, None, None)],
    ),
    CustomerCase(
        "json_row_of_wrong_length",
        "json",
        cjson(
            CUSTOMER_HEADER_LIST,
            [
                ["u1", "Nice", 25, None, None, None],
                ["u2", "Metz"],
                ["u3", "Lyon", 27, None, None, None, "extra"],
                "u4",
                ["u5", "Oslo", 1, "", "", ""],
                {"customuid": "u6"},
                None,
            ],
        ),
        LOADED,
        7,
        2,
        5,
        rejects={
            2: ("columns", ("expected 6 values", "found 2")),
            3: ("columns", ("expected 6 values", "found 7")),
            4: ("columns", ("expected an array of 6 values, found a string",)),  # not 'found 0'
            6: ("columns", ("expected an array of 6 values, found an object",)),
            7: ("columns", ("expected an array of 6 values, found null",)),
        },
        rows=[("u1", "Nice", 25.0, None, None, None), ("u5", "Oslo", 1.0, None, None, None)],
    ),
    CustomerCase(
        "json_typed_values_and_bad_values",
        "json",
        cjson(
            CUSTOMER_HEADER_LIST,
            [
                ["u1", "Nice", 25, "golf, chess", 1, epoch(2026, 1, 31, 9)],
                ["u2", "Metz", "old", None, None, None],
                [None, "Lyon", 1, None, None, None],
                ["u4", "Brest", "28.5", None, 0, 0],
                ["u1", "Rome", 1, None, None, None],
            ],
        ),
        LOADED,
        5,
        2,
        3,
        rejects={
            2: ("num_age", ("'old'",)),
            3: ("customuid", ("missing",)),
            5: ("customuid", ("'u1'", "row 1")),
        },
        rows=[
            ("u1", "Nice", 25.0, ["golf", "chess"], True, ts(2026, 1, 31, 9)),
            ("u4", "Brest", 28.5, None, False, None),
        ],
    ),
]


@pytest.mark.parametrize("case", CUSTOMER_CASES, ids=[c.id for c in CUSTOMER_CASES])
def test_customers_file(world: World, case: CustomerCase) -> None:
    base = load_customer_base(world)
    spec = world.cfg.customers.model_copy(update=case.spec or {})
    r = world.load_customers(case.ext, case.data, spec=spec)
    check_load(world, r, case.status, case.read, case.loaded, case.rejected)
    check_rejects(world, r, case.rejects)
    written = world.q(
        f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE _load_id = ? ORDER BY customuid", [r.load_id]
    )
    assert written == case.rows
    # update mode: the customers not in the file keep their row (and their load)
    untouched = {row[0] for row in case.rows}
    kept = [row for row in CUSTOMERS_BASE_ROWS if row[0] not in untouched]
    assert (
        world.q(
            f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE _load_id = ? ORDER BY customuid", [base.load_id]
        )
        == kept
    )
    assert world.q("SELECT count(*) FROM customers")[0][0] == len(kept) + len(case.rows)


CUSTOMER_FAIL_CASES = [
    FailCase("csv_empty_file", "customers", "csv", b"", ("empty",)),
    FailCase("json_empty_file", "customers", "json", b"", ("empty",)),
    FailCase(
        "json_not_valid_json",
        "customers",
        "json",
        b'{"header": ["customuid"],\n "data": [["u1"]',
        ("not valid JSON", "Expecting ',' delimiter at line 2 column 17"),
    ),
    FailCase("json_not_an_object", "customers", "json", b'[["customuid"], ["u1"]]', ("header", "data")),
    FailCase(
        "json_data_not_an_array",
        "customers",
        "json",
        b'{"header": ["customuid"], "data": {"u1": 1}}',
        ("header", "data"),
    ),
    FailCase(
        "json_duplicate_header_name",
        "customers",
        "json",
        cjson(["customuid", "txt_city", "txt_city"], [["u1", "a", "b"]]),
        ("txt_city",),
    ),
    FailCase(
        "csv_missing_customuid_column", "customers", "csv", b"txt_city,num_age\nNice,25\n", ("customuid",)
    ),
    FailCase("csv_unknown_column", "customers", "csv", b"customuid,city\nu1,Nice\n", ("unknown", "city")),
    # a quote in a column name broke every later training ("special JSON characters in feature name")
    FailCase(
        "csv_column_name_with_a_quote",
        "customers",
        "csv",
        b'customuid,"txt_a""b"\nu1,Nice\n',
        ('txt_a"b', "letters, digits and _"),
    ),
    FailCase(
        "json_column_name_with_a_space",
        "customers",
        "json",
        cjson(["customuid", "num_age years"], [["u1", 3]]),
        ("num_age years", "letters, digits and _"),
    ),
    FailCase(
        "csv_email_and_emailsha256",
        "customers",
        "csv",
        b"customuid,email,emailsha256\nu1,a@x.com,ab\n",
        ("email", "emailsha256"),
    ),
    FailCase(
        "csv_gz_truncated",
        "customers",
        "csv.gz",
        _truncated_gzip(CUSTOMERS_HEADER + b"".join(b"u%d,Nice,%d,,,\n" % (i, i) for i in range(3000)), 0.5),
        ("cannot read",),
    ),
    FailCase(
        "json_gz_truncated",
        "customers",
        "json.gz",
        _truncated_gzip(
            cjson(CUSTOMER_HEADER_LIST, [[f"u{i}", "Nice", i, None, None, None] for i in range(3000)]), 0.5
        ),
        ("cannot read",),
    ),
]


@pytest.mark.parametrize("case", CUSTOMER_FAIL_CASES, ids=[c.id for c in CUSTOMER_FAIL_CASES])
def test_customers_file_fails_and_keeps_data_set(world: World, case: FailCase) -> None:
    load_customer_base(world)
    before = world.customer_snapshot()
    before_rejects = world.q("SELECT * FROM rejects WHERE dataset = 'customers' ORDER BY load_id, row_number")
    r = world.load_customers(case.ext, case.data)
    check_failed(world, r, f"customers_{DAY:%Y%m%d}.{case.ext}", case.words)
    assert world.customer_snapshot() == before
    assert world.customers() == CUSTOMERS_BASE_ROWS
    assert (
        world.q("SELECT * FROM rejects WHERE dataset = 'customers' ORDER BY load_id, row_number")
        == before_rejects
    )
    pending = files_to_apply(world.con, "customers", list_files(world.folder, "customers"))
    assert [f.name for f in pending] == [f"customers_{DAY:%Y%m%d}.{case.ext}"]


def test_a_multi_value_cell_without_any_value_is_missing(world: World) -> None:
    """A cell of separators and spaces only (``" , "``) holds no value: a missing value, as an empty
    cell or a JSON ``[]`` is, never an empty identifier ``''`` or an empty list."""
    header = "customuid,idfa,dmpid,emailsha256,attr_interests\n"
    r = world.load_customers("csv", header + 'c1," , ",",","  ,  ",","\nc2,,,,\n', day=DAY)
    check_load(world, r, LOADED, 2, 2, 0)
    data = [["j1", [], [], [], []], ["j2", ["", " "], [""], [" "], ["", ""]]]
    r = world.load_customers("json", cjson(header.strip().split(","), data), day=DAY)
    check_load(world, r, LOADED, 2, 2, 0)
    rows = world.q("SELECT customuid, idfa, dmpid, emailsha256, attr_interests FROM customers ORDER BY 1")
    assert rows == [(uid, None, None, None, None) for uid in ("c1", "c2", "j1", "j2")]
