"""The recommender's co-occurrence (recommend.affinity, a matrix product) against the self-join it
replaced, on small random histories."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from pipeline.models.recommend import affinity

SELF_JOIN = """
WITH items AS (SELECT item, count(*)::DOUBLE AS buyers FROM _took GROUP BY item),
cooc AS (
    SELECT a.item AS from_item, b.item AS to_item, count(*)::DOUBLE / any_value(i.buyers) AS p
    FROM _took a JOIN _took b ON a.customer_id = b.customer_id AND a.item <> b.item
    JOIN items i ON i.item = a.item GROUP BY ALL
)
SELECT c.customer_id, o.to_item AS item, fsum(o.p * c.times) AS weighted, max(o.p) AS max_cooccurrence
FROM _took c JOIN cooc o ON o.from_item = c.item GROUP BY ALL ORDER BY 1, 2
"""


def history(seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = 400
    customer = rng.integers(0, 60, n)
    item = rng.integers(0, 12, n)
    took = {(int(c), int(i)) for c, i in zip(customer, item, strict=True)}
    pairs = np.array(sorted(took))
    return pa.table(
        {
            "customer_id": [f"c{c:03d}" for c in pairs[:, 0]],
            "item": [f"i{i:02d}" for i in pairs[:, 1]],
            "times": rng.integers(1, 5, len(pairs)).astype(np.float64),
        }
    )


@pytest.mark.parametrize("seed", range(8))
def test_affinity_is_the_self_join(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pipeline.models.recommend.AFFINITY_CELLS", 50)  # several blocks of customers
    took = history(seed)
    con = duckdb.connect()
    con.register("_took", took)
    want = con.sql(SELF_JOIN).df()
    con.register("_got", affinity(took))
    got = con.sql("SELECT * FROM _got ORDER BY 1, 2").df()
    assert len(want) > 100
    assert got[["customer_id", "item"]].equals(want[["customer_id", "item"]])
    assert np.array_equal(got["max_cooccurrence"], want["max_cooccurrence"])
    np.testing.assert_allclose(got["weighted"], want["weighted"], rtol=0, atol=1e-12)


def test_affinity_of_nothing() -> None:
    empty = pa.table(
        {
            "customer_id": pa.array([], pa.string()),
            "item": pa.array([], pa.string()),
            "times": pa.array([], pa.float64()),
        }
    )
    assert affinity(empty).num_rows == 0
