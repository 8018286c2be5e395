"""Random mixes of good and bad rows (hypothesis): every row is accounted for, loaded or rejected."""

from __future__ import annotations

import csv
import io
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.ingest.write import LOADED, PROCESSED
from tests.unit.ingest.malformed_corpus import (
    DAY,
    World,
    check_load,
    check_rejects,
)

# --------------------------------------------------------------------------------------------
# property: random mixes of good and bad rows
# --------------------------------------------------------------------------------------------

GOOD, BAD_NUMBER, NO_CUSTOMER, EXTRA_COLUMN = "good", "bad_number", "no_customer", "extra_column"
_TEXT = string.ascii_letters + string.digits + ' ,"-é\n'
_value = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(string.ascii_letters),
    st.text(alphabet=_TEXT, max_size=6),
)
_row = st.tuples(
    st.sampled_from([GOOD, GOOD, BAD_NUMBER, NO_CUSTOMER, EXTRA_COLUMN]),
    _value,  # customer id
    st.integers(min_value=-(10**6), max_value=10**6),  # quantity
    st.decimals(
        min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False
    ),  # amount
    st.text(alphabet=_TEXT, max_size=6),  # store
    st.booleans(),  # bad number: in quantity or in amount
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=4).map(lambda s: "x" + s),  # the bad number
    st.sampled_from(["", " ", "   "]),  # the missing customer id
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, max_size=12))
def test_property_random_good_and_bad_rows(world: World, rows: list[tuple]) -> None:
    # one project for every example (as the examples shared its warehouse file before, now without
    # opening the database again for each): each load replaces the partition of the one before
    _check_random_file(world, rows)


def _check_random_file(w: World, rows: list[tuple]) -> None:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["order_id", "customer_id", "purchased_at", "quantity", "amount", "store"])
    expected_rows, expected_rejects = [], {}
    for i, (kind, customer, qty, amount, store, in_qty, bad, blank) in enumerate(rows, start=1):
        cells = [f"o{i}", customer, "01/31/2026", str(qty), str(amount), store]
        if kind == BAD_NUMBER:
            cells[3 if in_qty else 4] = bad
            expected_rejects[i] = ("quantity", (f"'{bad}'",)) if in_qty else ("amount", (f"'{bad}'",))
        elif kind == NO_CUSTOMER:
            cells[1] = blank
            expected_rejects[i] = ("customer_id", ("missing",))
        elif kind == EXTRA_COLUMN:
            cells.append("extra")
            expected_rejects[i] = ("columns", ())
        else:
            expected_rows.append(
                (i, f"o{i}", customer.strip(" "), DAY, qty, amount, store.strip(" ") or None)
            )
        out.writerow(cells)
    r = w.load_tx("pos", "csv", buf.getvalue())
    n_bad = len(expected_rejects)
    check_load(w, r, LOADED if rows else PROCESSED, len(rows), len(rows) - n_bad, n_bad)
    assert r.rows_loaded == len(expected_rows)
    check_rejects(w, r, expected_rejects)
    assert w.partition("pos") == expected_rows
