"""The recommender's co-occurrence (recommend.affinity, a matrix product) against the self-join it
replaced, on small random histories."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from pipeline.models.recommend import (
    FEATURES,
    affinity,
    assemble,
    assemble_grid,
    grid_top_k,
    round_half_away,
    scored_top_k,
)

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


CANDIDATES = (
    """
WITH customers AS (
    SELECT customer_id, sum(times) AS purchases, count(*)::DOUBLE AS distinct_items FROM _took GROUP BY ALL
),
items AS (
    SELECT item, sum(times) / sum(sum(times)) OVER () AS popularity,
           rank() OVER (ORDER BY sum(times) DESC)::DOUBLE AS popularity_rank
    FROM _took GROUP BY item
),
affinity AS ("""
    + SELF_JOIN.replace("ORDER BY 1, 2", "")
    + """)
SELECT p.customer_id, i.item, coalesce(ci.times, 0) AS times, ci.days_since, i.popularity, i.popularity_rank,
       coalesce(round(a.weighted / cu.purchases, 12), 0) AS cooccurrence,
       coalesce(a.max_cooccurrence, 0) AS max_cooccurrence,
       coalesce(cu.purchases, 0) AS purchases, coalesce(cu.distinct_items, 0) AS distinct_items
FROM _population p CROSS JOIN items i
LEFT JOIN _took ci ON ci.customer_id = p.customer_id AND ci.item = i.item
LEFT JOIN affinity a ON a.customer_id = p.customer_id AND a.item = i.item
LEFT JOIN customers cu ON cu.customer_id = p.customer_id
ORDER BY 1, 2
"""
)


@pytest.mark.parametrize("seed", range(6))
def test_assembled_candidates_are_the_sql_ones(seed: int) -> None:
    took = history(seed)
    rng = np.random.default_rng(seed + 100)
    took = took.append_column("days_since", pa.array(rng.uniform(0, 90, took.num_rows)))
    population = pa.chunked_array([pa.array([f"c{c:03d}" for c in range(0, 70, 2)])])  # some without history
    con = duckdb.connect()
    con.register("_took", took)
    con.register("_population", pa.table({"customer_id": population}))
    want = con.sql(CANDIDATES).df()
    con.register("_got", assemble(took, population))
    got = con.sql("SELECT * FROM _got ORDER BY 1, 2").df()
    assert len(want) == 35 * 12
    assert list(got.columns) == list(want.columns)
    assert got.drop(columns="cooccurrence").equals(want.drop(columns="cooccurrence"))
    # the sums differ from SQL's compensated sum (itself in join order) in the last bit at most, which
    # moves a rounded value by one step of 1e-12 now and then
    np.testing.assert_allclose(got["cooccurrence"], want["cooccurrence"], rtol=0, atol=1.01e-12)
    assert (got["cooccurrence"] > 0).sum() > 100


def test_round_half_away() -> None:
    assert np.array_equal(round_half_away(np.array([0.5, 1.5, 2.5, 0.25, 0.0]), 0), [1.0, 2.0, 3.0, 0.0, 0.0])
    x = np.random.default_rng(3).uniform(0, 1, 100_000) ** 3  # shares, many near a half step of 1e-12
    scaled = x * 1e12  # the plain formula: the same bits
    plain = np.where(scaled - np.floor(scaled) >= 0.5, np.floor(scaled) + 1, np.floor(scaled)) / 1e12
    assert np.array_equal(round_half_away(x, 12), plain)


@pytest.mark.parametrize("seed", range(4))
def test_the_grid_scores_and_ranks_what_the_candidate_rows_hold(seed: int) -> None:
    """The scoring reads the candidates as a grid (recommend.Grid): its columns, customer by customer,
    are the candidate rows' feature columns (NULL: NaN) bit for bit, and its top k the rows' top k."""
    took = history(seed)
    rng = np.random.default_rng(seed + 200)
    took = took.append_column("days_since", pa.array(rng.uniform(0, 90, took.num_rows)))
    population = pa.chunked_array(
        [pa.array([f"c{c:03d}" for c in rng.permutation(70)])]
    )  # some without history
    rows = assemble(took, population)
    want = np.column_stack(
        [rows.column(f).cast(pa.float64()).to_numpy(zero_copy_only=False) for f in reversed(FEATURES)]
    )
    grid = assemble_grid(took, population)
    got = np.column_stack([c.reshape(-1) for c in grid.feature_columns(list(reversed(FEATURES)))])
    assert got.shape == (70 * 12, len(FEATURES))
    assert np.array_equal(got, want, equal_nan=True) and np.isnan(got).any()
    scores = rng.integers(0, 5, rows.num_rows) / 4  # ties: the item name breaks them
    by_rows = scored_top_k(rows.select(["customer_id", "item"]), scores, 3)
    by_grid = grid_top_k(grid.customers, grid.items, scores, 3)
    assert by_grid.drop(columns="items").equals(by_rows.drop(columns="items"))
    assert [list(x) for x in by_grid["items"]] == [list(x) for x in by_rows["items"]]
    assert grid_top_k(grid.customers.slice(0, 0), grid.items, scores[:0], 3).empty
