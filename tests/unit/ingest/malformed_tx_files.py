"""Malformed transaction files that load (with rejects): empty files, BOM and line ends, encodings,
quoting and column counts, blank lines, invalid JSON lines."""

from __future__ import annotations

import gzip
from decimal import Decimal

from pipeline.ingest.write import LOADED, PROCESSED
from tests.unit.ingest.malformed_corpus import (
    _MANY,
    DAY,
    LATIN1_POS,
    LATIN1_WEB,
    POS_HEADER,
    TxCase,
    _pos_rows,
    jl,
    ts,
)

FILE_CASES = [
    # ---- empty / header only --------------------------------------------------------------
    TxCase("csv_header_only", "pos", "csv", POS_HEADER, PROCESSED, 0, 0, 0),
    TxCase("csv_header_only_no_final_newline", "pos", "csv", POS_HEADER.rstrip(b"\n"), PROCESSED, 0, 0, 0),
    TxCase("jsonl_blank_lines_only", "web", "jsonl", b"\n  \n\n", PROCESSED, 0, 0, 0),
    # ---- BOM, CRLF ------------------------------------------------------------------------
    TxCase(
        "csv_utf8_bom",
        "pos",
        "csv",
        b"\xef\xbb\xbf" + POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1\no2,c2,01/31/2026,1,10,S2\n",
        LOADED,
        2,
        2,
        0,
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (2, "o2", "c2", DAY, 1, Decimal("10"), "S2")],
    ),
    TxCase(
        "jsonl_utf8_bom",
        "web",
        "jsonl",
        b"\xef\xbb\xbf"
        + jl(
            {"session_id": "s1", "customer_id": "c1", "started_at": "2026-01-31T10:00:00Z"},
            {"session_id": "s2", "customer_id": "c2", "started_at": "2026-01-31T11:00:00Z"},
        ),
        LOADED,
        2,
        2,
        0,
        rows=[
            (1, "s1", "c1", ts(2026, 1, 31, 10), None, None, None, None),
            (2, "s2", "c2", ts(2026, 1, 31, 11), None, None, None, None),
        ],
    ),
    TxCase(
        "csv_crlf_line_ends",
        "pos",
        "csv",
        (
            POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1\no2,c2,01/31/2026,abc,1,S2\no3,c3,01/31/2026,3,4,S3\n"
        ).replace(b"\n", b"\r\n"),
        LOADED,
        3,
        2,
        1,
        rejects={2: ("quantity", ("'abc'", "Int"))},
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    TxCase(
        "jsonl_crlf_line_ends",
        "web",
        "jsonl",
        jl(
            {
                "session_id": "s1",
                "customer_id": "c1",
                "started_at": "2026-01-31T10:00:00Z",
                "channel": "email",
            },
            {"session_id": "s2", "customer_id": "c2", "started_at": "2026-01-31T11:00:00Z", "channel": "seo"},
        ).replace(b"\n", b"\r\n"),
        LOADED,
        2,
        2,
        0,
        rows=[
            (1, "s1", "c1", ts(2026, 1, 31, 10), None, None, None, "email"),
            (2, "s2", "c2", ts(2026, 1, 31, 11), None, None, None, "seo"),
        ],
    ),
    # ---- encodings ------------------------------------------------------------------------
    TxCase(
        "csv_latin1_bytes_in_utf8_dataset",
        "pos",
        "csv",
        LATIN1_POS,
        LOADED,
        2,
        1,
        1,
        rejects={1: ("encoding", ("utf-8", "latin-1"))},
        rows=[(2, "o2", "c2", DAY, 1, Decimal("10"), "S2")],
    ),
    TxCase(
        "csv_latin1_bytes_in_utf8_dataset_after_first_8kb",
        "pos",
        "csv",
        POS_HEADER + _pos_rows(_MANY) + b"o0,Ren\xe9,01/31/2026,2,3.50,S1\nz,c,01/31/2026,1,1,S\n",
        LOADED,
        _MANY + 2,
        _MANY + 1,
        1,
        rejects={_MANY + 1: ("encoding", ("utf-8", "latin-1"))},
        rows=[(i, f"o{i}", f"c{i}", DAY, 1, Decimal("1"), "S") for i in range(1, _MANY + 1)]
        + [(_MANY + 2, "z", "c", DAY, 1, Decimal("1"), "S")],
    ),
    TxCase(
        "jsonl_latin1_bytes_in_utf8_dataset",
        "web",
        "jsonl",
        LATIN1_WEB,
        LOADED,
        2,
        1,
        1,
        rejects={1: ("encoding", ("utf-8", "latin-1"))},
        rows=[(2, "s2", "c2", ts(2026, 1, 31, 11), None, None, None, None)],
    ),
    TxCase(
        "csv_latin1_file_in_latin1_dataset",
        "pos_latin",
        "csv",
        LATIN1_POS,
        LOADED,
        2,
        2,
        0,
        rows=[
            (1, "o1", "René", DAY, 2, Decimal("3.5"), "Café Crème"),
            (2, "o2", "c2", DAY, 1, Decimal("10"), "S2"),
        ],
    ),
    TxCase(
        "jsonl_latin1_file_in_latin1_dataset",
        "web_latin",
        "jsonl",
        LATIN1_WEB,
        LOADED,
        2,
        2,
        0,
        rows=[
            (1, "s1", "René", ts(2026, 1, 31, 10), None, None, None, "café"),
            (2, "s2", "c2", ts(2026, 1, 31, 11), None, None, None, None),
        ],
    ),
    # ---- quoting, column counts -----------------------------------------------------------
    TxCase(
        "csv_quoted_multiline_cell",
        "pos",
        "csv",
        POS_HEADER
        + b'o1,c1,01/31/2026,2,3.50,"Main St\nBuilding 2\n"\n'
        + b'o2,"Doe, Jane",01/31/2026,1,1,"He said ""hi"""\n'
        + b"o3,c3,01/31/2026,1\n"
        + b"o4,c4,01/31/2026,4,4,S4\n",
        LOADED,
        4,
        3,
        1,
        rejects={3: ("columns", ("6", "4"))},
        rows=[
            (1, "o1", "c1", DAY, 2, Decimal("3.5"), "Main St\nBuilding 2\n"),
            (2, "o2", "Doe, Jane", DAY, 1, Decimal("1"), 'He said "hi"'),
            (4, "o4", "c4", DAY, 4, Decimal("4"), "S4"),
        ],
    ),
    TxCase(
        "csv_row_with_too_few_columns",
        "pos",
        "csv",
        POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1\no2,c2,01/31/2026,1\no3,c3,01/31/2026,3,4,S3\n",
        LOADED,
        3,
        2,
        1,
        rejects={2: ("columns", ("6", "4"))},
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    TxCase(
        "csv_row_with_too_many_columns",
        "pos",
        "csv",
        POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1,EXTRA\no2,c2,01/31/2026,1,10,S2\n",
        LOADED,
        2,
        1,
        1,
        rejects={1: ("columns", ("6", "7"))},
        rows=[(2, "o2", "c2", DAY, 1, Decimal("10"), "S2")],
    ),
    TxCase(
        # empty values beyond the header's columns are values too many all the same (the row may be
        # shifted: an empty value too many before the last): the row is rejected, counting them
        "csv_row_with_trailing_empty_extra_fields",
        "pos",
        "csv",
        POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1,,\no2,c2,01/31/2026,1,10,S2\n",
        LOADED,
        2,
        1,
        1,
        rejects={1: ("columns", ("6", "Found: 8"))},
        rows=[(2, "o2", "c2", DAY, 1, Decimal("10"), "S2")],
    ),
    TxCase(
        "csv_blank_line_between_rows",
        "pos",
        "csv",
        POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1\n\no2,c2,01/31/2026,1\no3,c3,01/31/2026,3,4,S3\n",
        LOADED,
        3,
        2,
        1,
        # record numbers (the header and blank lines are not records): o2 is record 2, o3 record 3
        rejects={2: ("columns", ("6", "4"))},
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    # blank lines with other line ends, compressed, or holding only spaces: still not records
    TxCase(
        "csv_crlf_blank_line_between_rows",
        "pos",
        "csv",
        (POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1\n\no2,c2,01/31/2026,1\no3,c3,01/31/2026,3,4,S3\n").replace(
            b"\n", b"\r\n"
        ),
        LOADED,
        3,
        2,
        1,
        rejects={2: ("columns", ("6", "4"))},
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    TxCase(
        "csv_gz_blank_lines_between_rows",
        "pos",
        "csv.gz",
        gzip.compress(
            POS_HEADER + b"o1,c1,01/31/2026,2,3.50,S1\n\n\no2,c2,01/31/2026,1\no3,c3,01/31/2026,3,4,S3\n"
        ),
        LOADED,
        3,
        2,
        1,
        rejects={2: ("columns", ("6", "4"))},
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    # lines of spaces only are blank lines too (the CSV reader would take each for a record of one
    # value); with a bad row after them and a row that is not UTF-8 (its raw text is read again)
    TxCase(
        "csv_lines_of_spaces_between_rows",
        "pos",
        "csv",
        POS_HEADER + b"  \no1,c1,01/31/2026,2,3.50,S1\n\n   \no2,c2,01/31/2026,1\no3,c3,01/31/2026,3,4,S3\n",
        LOADED,
        3,
        2,
        1,
        rejects={2: ("columns", ("6", "4"))},
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    TxCase(
        "csv_a_line_of_spaces_and_a_row_not_utf8",
        "pos",
        "csv",
        POS_HEADER
        + b" \no1,c1,01/31/2026,2,3.50,S1\n\no2,Ren\xe9,01/31/2026,1,1,S2\no3,c3,01/31/2026,3,4,S3\n",
        LOADED,
        3,
        2,
        1,
        rejects={2: ("encoding", ("utf-8", "latin-1"))},
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    # a blank line and a row that is not UTF-8: the line scans that find the blank lines count that row
    TxCase(
        "csv_blank_line_and_a_row_not_utf8",
        "pos",
        "csv",
        POS_HEADER
        + b"\no1,c1,01/31/2026,2,3.50,S1\n\no2,Ren\xe9,01/31/2026,1,1,S2\no3,c3,01/31/2026,3,4,S3\n",
        LOADED,
        3,
        2,
        1,
        rejects={2: ("encoding", ("utf-8", "latin-1"))},
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    # the same with Windows-1252 quotes (bytes 0x93, 0x94: no Latin-1 characters for DuckDB either)
    TxCase(
        "csv_blank_line_and_a_row_in_windows_1252",
        "pos",
        "csv",
        POS_HEADER
        + b"\no1,c1,01/31/2026,2,3.50,S1\n\no2,\x93c2\x94,01/31/2026,1,1,S2\no3,c3,01/31/2026,3,4,S3\n",
        LOADED,
        3,
        2,
        1,
        rejects={2: ("encoding", ("utf-8", "latin-1"))},
        rows=[(1, "o1", "c1", DAY, 2, Decimal("3.5"), "S1"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    TxCase(
        "csv_blank_line_after_the_bad_row",
        "pos",
        "csv",
        POS_HEADER + b"o1,c1,01/31/2026,1\no2,c2,01/31/2026,2,3.50,S2\n\no3,c3,01/31/2026,3,4,S3\n",
        LOADED,
        3,
        2,
        1,
        rejects={1: ("columns", ("6", "4"))},
        rows=[(2, "o2", "c2", DAY, 2, Decimal("3.5"), "S2"), (3, "o3", "c3", DAY, 3, Decimal("4"), "S3")],
    ),
    TxCase(
        "jsonl_strings_that_start_like_json",
        "web",
        "jsonl",
        jl(
            {
                "session_id": "{s1",
                "customer_id": "[c1]",
                "started_at": "2026-01-31T10:00:00Z",
                "channel": "{}",
            },
            {
                "session_id": "[s2",
                "customer_id": "c2",
                "started_at": "2026-01-31T11:00:00Z",
                "channel": ["a"],  # an array in a String field: its values, joined
                "page_views": [1],  # in an Int field: rejected
            },
            b'{"session_id": "s3", "customer_id": "c3", "started_at": "2026-01-31T12:00:00Z", '
            b'"channel": "\\u007bx"}',
        ),
        LOADED,
        3,
        2,
        1,
        rejects={2: ("page_views", ("not a single value",))},
        rows=[
            (1, "{s1", "[c1]", ts(2026, 1, 31, 10), None, None, None, "{}"),
            (3, "s3", "c3", ts(2026, 1, 31, 12), None, None, None, "{x"),
        ],
    ),
    TxCase(
        "jsonl_extra_key_ignored",
        "web",
        "jsonl",
        jl(
            {"session_id": "s1", "customer_id": "c1", "started_at": "2026-01-31T10:00:00Z", "undeclared": "x"}
        ),
        LOADED,
        1,
        1,
        0,
        rows=[(1, "s1", "c1", ts(2026, 1, 31, 10), None, None, None, None)],
    ),
    # ---- invalid JSON lines ---------------------------------------------------------------
    TxCase(
        "jsonl_invalid_lines",
        "web",
        "jsonl",
        jl(
            {"session_id": "s1", "customer_id": "c1", "started_at": "2026-01-31T10:00:00Z"},
            b"{not json",
            b'{"session_id": "s3", "customer_id": "c3"',
            b"[1, 2]",
            b'"just a string"',
            {"session_id": "s6", "customer_id": "c6", "started_at": "2026-01-31T11:00:00Z"},
        ),
        LOADED,
        6,
        2,
        4,
        rejects={
            2: ("json", ("not valid JSON", "Expecting property name enclosed in double quotes at column 2")),
            3: ("json", ("not valid JSON", "Expecting ',' delimiter at column 41")),
            4: ("json", ("not a JSON object",)),
            5: ("json", ("not a JSON object",)),
        },
        rows=[
            (1, "s1", "c1", ts(2026, 1, 31, 10), None, None, None, None),
            (6, "s6", "c6", ts(2026, 1, 31, 11), None, None, None, None),
        ],
    ),
]
