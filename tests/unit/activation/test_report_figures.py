"""The report's attribution figure is drawn from sums that do not depend on the rows' order, so the
same snapshot gives the same rows bit for bit and the last page's figure is kept."""

from __future__ import annotations

import duckdb

from pipeline.core.sql import sql

# values whose floating-point sum depends on the order they are added in
VALUES = [1e16, 1.0, -1e16, 0.5, 3.0]


def _rows(order: list[int]) -> list[tuple]:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE attribution_summary (model VARCHAR, channel VARCHAR, conversions DOUBLE, value DOUBLE)"
    )
    con.executemany(
        "INSERT INTO attribution_summary VALUES ('linear', 'email', ?, ?)",
        [(VALUES[i] / 1e15, VALUES[i]) for i in order],
    )
    return con.execute(sql("activation/report/attribution")).fetchall()


def test_attribution_rows_do_not_depend_on_the_order_of_the_summary():
    orders = [[0, 1, 2, 3, 4], [1, 0, 2, 4, 3], [2, 4, 3, 1, 0], [0, 2, 1, 3, 4]]
    # the plain sums of these orders differ: the test would see a sum that follows the rows' order
    assert len({sum(VALUES[i] for i in order) for order in orders}) > 1
    rows = [_rows(order) for order in orders]
    assert all(r == rows[0] for r in rows)
    assert rows[0][0][:2] == ("linear", "email")
