"""The recommender: candidates (customer x item) with sequence features, ranked top-k, popularity baseline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute

from pipeline.core.sql import bind, sql
from pipeline.models.config import ModelsConfig, ModelSpec
from pipeline.models.features import TrainingWindow, build_population, qualifying_events

FEATURES = [
    "times",
    "days_since",
    "popularity",
    "popularity_rank",
    "cooccurrence",
    "max_cooccurrence",
    "purchases",
    "distinct_items",
]


def _build(
    con: duckdb.DuckDBPyConnection, config: ModelsConfig, spec: ModelSpec, cutoff: dt.date, only: str | None
) -> None:
    """Temp table _candidates (assemble), unordered."""
    _inputs(con, config, spec, cutoff, only)
    _candidates(con, cutoff, "_population")


def _inputs(
    con: duckdb.DuckDBPyConnection, config: ModelsConfig, spec: ModelSpec, cutoff: dt.date, only: str | None
) -> None:
    """Temp tables _population and _history (the qualifying events before the cut-off)."""
    build_population(con, cutoff, only)
    qualifying_events(con, config, spec, cutoff - dt.timedelta(days=spec.history_days), cutoff)
    con.execute("CREATE OR REPLACE TEMP TABLE _history AS SELECT * FROM _qualifying")


def _assembled(con: duckdb.DuckDBPyConnection, cutoff: dt.date, population: str) -> Grid:
    """The candidates (assemble_grid) of the customers of ``population`` (a table of customer_id), from
    what each customer took in _history (sql/models/features/recommender_cust_items.sql)."""
    q = sql("models/features/recommender_cust_items")
    con.execute(q, bind(q, {"cutoff": cutoff}))
    try:
        took = con.table("_cust_items").to_arrow_table()
        return assemble_grid(took, con.table(population).select("customer_id").to_arrow_table().column(0))
    finally:
        con.execute("DROP TABLE _cust_items")


def _candidates(con: duckdb.DuckDBPyConnection, cutoff: dt.date, population: str) -> None:
    """Temp table _candidates of the customers of ``population`` (a table of customer_id), unordered."""
    con.register("_assembled", _assembled(con, cutoff, population).table())
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _candidates AS SELECT * FROM _assembled")
    finally:
        con.unregister("_assembled")


AFFINITY_CELLS = 4_000_000  # (customer's item, item) pairs gathered at once by affinity


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    encoded = column.combine_chunks().dictionary_encode()
    return encoded.indices.to_numpy().astype(np.int64), encoded.dictionary


def _dense(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int], fill: float
) -> np.ndarray:
    out = np.full(shape, fill)
    out[rows, cols] = values
    return out


def _affinity_dense(
    c: np.ndarray, i: np.ndarray, times: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(weighted, max_cooccurrence) as customers x items matrices (affinity); 0 where no p(a, b) > 0."""
    n_items = shape[1]
    indicator = _dense(c, i, np.ones(len(c)), shape, 0.0)
    buyers = indicator.sum(axis=0)
    counts = indicator.T @ indicator  # exact: integer counts
    np.fill_diagonal(counts, 0.0)
    share = counts / np.where(buyers > 0, buyers, 1.0)[:, None]
    order = np.argsort(c, kind="stable")
    c, i, times = c[order], i[order], times[order]
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]]) if len(c) else np.zeros(0, dtype=np.int64)
    # each row's place among its customer's rows (0: the first)
    place = np.arange(len(c)) - np.repeat(starts, np.diff(np.r_[starts, len(c)]))
    weighted, top = np.zeros(shape), np.zeros(shape)
    step = max(1, AFFINITY_CELLS // max(n_items, 1))
    for lo in range(0, len(starts), step):  # blocks of customers
        first = starts[lo]
        last = starts[lo + step] if lo + step < len(starts) else len(c)
        owner = np.repeat(
            np.arange(len(starts[lo : lo + step])), np.diff(np.r_[starts[lo : lo + step], last])
        )
        sums = np.zeros((len(starts[lo : lo + step]), n_items), dtype=np.longdouble)
        best = np.zeros((len(starts[lo : lo + step]), n_items))
        by_place = np.argsort(place[first:last], kind="stable")  # place by place, customers in order
        bounds = np.searchsorted(place[first:last][by_place], np.arange(place[first:last].max() + 2))
        for p in range(len(bounds) - 1):  # over the places (at most the items), vectorised over customers
            rows = by_place[bounds[p] : bounds[p + 1]]
            gathered = share[i[first + rows]]
            who = owner[rows]  # distinct: one row per customer and place
            sums[who] += (gathered * times[first + rows, None]).astype(np.longdouble)
            best[who] = np.maximum(best[who], gathered)
        weighted[c[starts[lo : lo + step]]] = sums.astype(np.float64)
        top[c[starts[lo : lo + step]]] = best
    return weighted, top


def affinity(took: pa.Table) -> pa.Table:
    """(customer_id, item, weighted, max_cooccurrence) from what each customer took (customer_id,
    item, times; one row per customer and item): with p(a, b) the share of the customers who took a
    that also took b (a <> b), weighted is the sum over the customer's items a of times(a) x p(a, b)
    and max_cooccurrence the largest p(a, b); only the (customer, b) with some p(a, b) > 0. The
    co-occurrence counts are one product of the customers x items indicator matrix with itself; the
    sums are accumulated in extended precision, so they round as a compensated sum does."""
    c, customers = _codes(took.column("customer_id"))
    i, items = _codes(took.column("item"))
    times = took.column("times").to_numpy().astype(np.float64)
    weighted, top = _affinity_dense(c, i, times, (len(customers), len(items)))
    row, col = np.nonzero(top > 0)
    return pa.table(
        {
            "customer_id": customers.take(pa.array(row)),
            "item": items.take(pa.array(col)),
            "weighted": pa.array(weighted[row, col], type=pa.float64()),
            "max_cooccurrence": pa.array(top[row, col], type=pa.float64()),
        }
    )


def round_half_away(x: np.ndarray, digits: int) -> np.ndarray:
    """x (>= 0) rounded to ``digits`` decimals, halves away from zero, as SQL's round does (a new array;
    the fraction is exact: scaled - floor(scaled) loses no bit below 2^52)."""
    scaled = x * 10.0**digits
    out = np.floor(scaled)
    scaled -= out
    out += scaled >= 0.5
    out /= 10.0**digits
    return out


@dataclass
class Grid:
    """The candidates as :func:`assemble_grid` lays them out: every customer of ``customers`` (the
    population, in its order) x every item of ``items`` (in order of first appearance), customer by
    customer; ``columns`` holds each of FEATURES as a len(customers) x len(items) float array (days_since
    NaN where the customer never took the item), or a read-only view repeating a customer's or an item's
    own figure."""

    customers: pa.ChunkedArray
    items: pa.Array
    columns: dict[str, np.ndarray]

    def table(self) -> pa.Table:
        """The grid as rows (customer_id, item, *FEATURES): the candidates of :func:`assemble`."""
        n, k = len(self.customers), len(self.items)
        return pa.table(
            {
                "customer_id": self.customers.take(pa.array(np.repeat(np.arange(n), k))),
                "item": self.items.take(pa.array(np.tile(np.arange(k), n))),
                **{
                    f: pa.array(v.reshape(-1), from_pandas=True) if f == "days_since" else v.reshape(-1)
                    for f, v in self.columns.items()
                },
            }
        )

    def feature_columns(self, features: list[str]) -> list[np.ndarray]:
        """The feature columns in the given order, as they are (predict.Columns: a customer's or an item's
        own figure stays a view repeating it); scored customer by customer, as :meth:`table` lays out
        the rows."""
        return [self.columns[f] for f in features]


def assemble_grid(took: pa.Table, population: pa.ChunkedArray) -> Grid:
    """The candidates: every customer of ``population`` x every item of ``took`` (what each customer
    took in the history: customer_id, item, times, days_since), with sequence features: how often and
    how recently the customer took the item, the item's popularity (share of the history's events,
    and rank), co-occurrence (affinity: the weighted shares per purchase, rounded to 12 decimals, and
    the largest share), the customer's purchases and distinct items. Unordered (customers in
    population order, items in order of first appearance); built in numpy from customers x items
    matrices, kept as a :class:`Grid` (no row per candidate: the scoring reads the grid as it is)."""
    c, customers = _codes(took.column("customer_id"))
    i, items = _codes(took.column("item"))
    shape = (len(customers) + 1, len(items))  # a last row of zeros: customers without history
    times = took.column("times").to_numpy().astype(np.float64)
    days = took.column("days_since").to_numpy(zero_copy_only=False).astype(np.float64)
    T = _dense(c, i, times, shape, 0.0)
    D = _dense(c, i, days, shape, np.nan)
    weighted, top = _affinity_dense(c, i, times, shape)
    purchases = T.sum(axis=1)
    distinct = (T > 0).sum(axis=1).astype(np.float64)
    taken = T.sum(axis=0)
    total = taken.sum()
    popularity = taken / total if total else taken
    rank = (len(taken) - np.searchsorted(np.sort(taken), taken, side="right") + 1).astype(np.float64)
    at = pa.compute.index_in(population, value_set=customers).to_numpy(zero_copy_only=False)
    at = (
        np.where(np.isnan(at.astype(np.float64)), len(customers), at).astype(np.int64)
        if len(at)
        else at.astype(np.int64)
    )
    n, k = len(at), len(items)
    bought = purchases[at][:, None]
    share = np.divide(weighted[at], bought, out=np.zeros((n, k)), where=bought > 0)
    return Grid(
        population,
        items,
        {  # a customer's or an item's own figure is a view, repeated only where it is copied
            "times": T[at],
            "days_since": D[at],
            "popularity": np.broadcast_to(popularity, (n, k)),
            "popularity_rank": np.broadcast_to(rank, (n, k)),
            "cooccurrence": round_half_away(share, 12),
            "max_cooccurrence": top[at],
            "purchases": np.broadcast_to(purchases[at][:, None], (n, k)),
            "distinct_items": np.broadcast_to(distinct[at][:, None], (n, k)),
        },
    )


def assemble(took: pa.Table, population: pa.ChunkedArray) -> pa.Table:
    """The candidates of :func:`assemble_grid` as rows: (customer_id, item, *FEATURES)."""
    return assemble_grid(took, population).table()


def candidates(
    con: duckdb.DuckDBPyConnection,
    config: ModelsConfig,
    spec: ModelSpec,
    cutoff: dt.date,
    only: str | None = None,
) -> pd.DataFrame:
    """(customer_id, item, *FEATURES) for every customer of the population and every item of the history,
    in (customer_id, item) order."""
    _build(con, config, spec, cutoff, only)
    out = con.sql("SELECT * FROM _candidates ORDER BY customer_id, item").df()
    con.execute("DROP TABLE _candidates; DROP TABLE _history")
    return out


@dataclass
class TrainingRows:
    """The rows a training reads: every customer of the candidates (in customer_id order), the chosen
    ones' rows (customer_id and item categorical, popularity), features, labels and weights."""

    customers: np.ndarray
    positives: int
    candidates: pd.DataFrame
    X: pd.DataFrame
    y: np.ndarray
    weight: np.ndarray


def training_rows(
    con: duckdb.DuckDBPyConnection,
    config: ModelsConfig,
    spec: ModelSpec,
    window: TrainingWindow,
    choose: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> tuple[TrainingRows, pd.DataFrame]:
    """(the training rows, what was taken (:func:`taken`)): the candidates' customer list is read
    first, and only the candidates of the customers ``choose`` keeps (a mask over the customers from their
    ids and candidate rows each) are built, labelled and weighted in SQL, and read. The same rows, in
    the same order, as :func:`candidates` filtered to those customers."""
    _inputs(con, config, spec, window.cutoff, None)
    took = taken(con, config, spec, window)  # replaces _qualifying, not _history
    con.register("_took", took)
    try:
        listed = con.sql(sql("models/features/recommender_customers")).to_arrow_table()
        customers = listed.column("customer_id").to_numpy(zero_copy_only=False)
        kept = choose(customers, listed.column("candidate_rows").to_numpy())
        con.register("_chosen", listed.select(["customer_id"]).filter(pa.array(kept)))
        _candidates(con, window.cutoff, "_chosen")
        table = con.sql(sql("models/features/recommender_training")).to_arrow_table()
    finally:
        con.execute("DROP TABLE IF EXISTS _candidates; DROP TABLE _history")
        con.unregister("_took")
        con.unregister("_chosen")
    # customer and item ids as categories: one string object per customer and item, not per row
    keys = pa.table(
        {
            "customer_id": table.column("customer_id").dictionary_encode(),
            "item": table.column("item").dictionary_encode(),
            "popularity": table.column("popularity"),
        }
    ).to_pandas()
    rows = TrainingRows(
        customers,
        int(pa.compute.sum(listed.column("positives")).as_py() or 0),
        keys,
        table.select(FEATURES).to_pandas(),
        table.column("label").to_numpy().astype(np.int32),
        table.column("weight").to_numpy().astype(np.float64),
    )
    return rows, took


def candidate_grid(
    con: duckdb.DuckDBPyConnection, config: ModelsConfig, spec: ModelSpec, cutoff: dt.date
) -> Grid:
    """The candidates of :func:`candidates`, unordered, as a :class:`Grid` (no Python objects, nor a row
    per candidate, for the ~3M customer x item candidates of a nightly scoring)."""
    _inputs(con, config, spec, cutoff, None)
    out = _assembled(con, cutoff, "_population")
    con.execute("DROP TABLE _history")
    return out


def scored_top_k(table: pa.Table, scores: np.ndarray, k: int) -> pd.DataFrame:
    """:func:`grid_top_k` of candidates laid out as :func:`assemble` lays them out (each customer's rows
    together, the same items in the same order for every customer)."""
    if not table.num_rows:
        return grid_top_k(table.column("customer_id"), table.column("item").combine_chunks(), scores, k)
    item = table.column("item")
    again = pa.compute.index(item, item[0], start=1).as_py()  # the second customer's first row
    width = table.num_rows if again < 0 else again
    customers = table.column("customer_id").take(pa.array(np.arange(0, table.num_rows, width)))
    return grid_top_k(customers, item.slice(0, width).combine_chunks(), scores, k)


def grid_top_k(
    customers: pa.ChunkedArray | pa.Array, items: pa.Array, scores: np.ndarray, k: int
) -> pd.DataFrame:
    """(customer_id, score, items) from the scores of a customers x items grid (customer by customer, the
    same items in the same order for every customer): each customer's k best items (ties: item name),
    best first, and the best score, in customer_id order. The grid is ranked row by row in NumPy (a
    stable sort of the items in name order by descending score)."""
    if not len(customers) or not len(items):
        return pd.DataFrame(
            {"customer_id": pd.Series(dtype=object), "score": [], "items": pd.Series(dtype=object)}
        )
    width = len(items)
    by_name = np.argsort(items.to_numpy(zero_copy_only=False), kind="stable")  # the items, not the rows
    grid = np.asarray(scores, dtype=np.float64).reshape(-1, width)[:, by_name]
    best = by_name[np.argsort(-grid, axis=1, kind="stable")[:, :k]]
    order = pa.compute.sort_indices(customers).to_numpy()
    chosen = best[order]
    offsets = pa.array(np.arange(0, chosen.size + 1, chosen.shape[1], dtype=np.int32))
    return pd.DataFrame(
        {
            "customer_id": customers.take(pa.array(order)).to_numpy(zero_copy_only=False),
            "score": grid.max(axis=1)[order],
            "items": pa.ListArray.from_arrays(offsets, items.take(pa.array(chosen.reshape(-1)))).to_pandas(),
        }
    )


def taken(
    con: duckdb.DuckDBPyConnection, config: ModelsConfig, spec: ModelSpec, window: TrainingWindow
) -> pd.DataFrame:
    """(customer_id, item, weight): what each customer took in the label (held-out) window, with the
    largest weight of the rules its events matched."""
    qualifying_events(con, config, spec, window.label_start, window.label_end)
    return con.sql(
        "SELECT customer_id, item, max(weight) AS weight FROM _qualifying WHERE item IS NOT NULL "
        "GROUP BY customer_id, item ORDER BY 1, 2"
    ).df()


def top_k(scored: pd.DataFrame, score: str, k: int) -> pd.DataFrame:
    """(customer_id, item, rank, score): each customer's k best items (ties: item name)."""
    ranked = scored.sort_values(["customer_id", score, "item"], ascending=[True, False, True], kind="stable")
    ranked = ranked.assign(rank=ranked.groupby("customer_id").cumcount() + 1)
    return ranked.loc[ranked["rank"] <= k, ["customer_id", "item", "rank", score]].rename(
        columns={score: "score"}
    )


def popularity_top_k(cands: pd.DataFrame, k: int) -> pd.DataFrame:
    """The baseline: the same k most popular items (in the history) for everyone."""
    return top_k(cands.assign(pop_score=cands["popularity"].to_numpy(dtype=float)), "pop_score", k)
