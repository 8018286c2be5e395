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
    """Temp table _candidates (sql/models/features/recommender_candidates.sql), unordered."""
    _inputs(con, config, spec, cutoff, only)
    _candidates(con, cutoff, "_population")


def _inputs(
    con: duckdb.DuckDBPyConnection, config: ModelsConfig, spec: ModelSpec, cutoff: dt.date, only: str | None
) -> None:
    """Temp tables _population and _history (the qualifying events before the cut-off)."""
    build_population(con, cutoff, only)
    qualifying_events(con, config, spec, cutoff - dt.timedelta(days=spec.history_days), cutoff)
    con.execute("CREATE OR REPLACE TEMP TABLE _history AS SELECT * FROM _qualifying")


def _candidates(con: duckdb.DuckDBPyConnection, cutoff: dt.date, population: str) -> None:
    """Temp table _candidates of the customers of ``population`` (a table of customer_id)."""
    q = sql("models/features/recommender_cust_items")
    con.execute(q, bind(q, {"cutoff": cutoff}))
    took = con.sql("SELECT customer_id, item, times FROM _cust_items").to_arrow_table()
    con.register("_affinity", affinity(took))
    try:
        con.execute(sql("models/features/recommender_candidates", idents={"population": population}))
    finally:
        con.unregister("_affinity")
        con.execute("DROP TABLE _cust_items")


AFFINITY_CELLS = 4_000_000  # (customer's item, item) pairs gathered at once by affinity


def affinity(took: pa.Table) -> pa.Table:
    """(customer_id, item, weighted, max_cooccurrence) from what each customer took (customer_id,
    item, times; one row per customer and item): with p(a, b) the share of the customers who took a
    that also took b (a <> b), weighted is the sum over the customer's items a of times(a) x p(a, b)
    and max_cooccurrence the largest p(a, b); only the (customer, b) with some p(a, b) > 0. The
    co-occurrence counts are one product of the customers x items indicator matrix with itself; the
    sums are accumulated in extended precision, so they round as a compensated sum does."""
    customers = took.column("customer_id").combine_chunks().dictionary_encode()
    items = took.column("item").combine_chunks().dictionary_encode()
    c = customers.indices.to_numpy().astype(np.int64)
    i = items.indices.to_numpy().astype(np.int64)
    times = took.column("times").to_numpy().astype(np.float64)
    n_items = len(items.dictionary)
    indicator = np.zeros((len(customers.dictionary), n_items))
    indicator[c, i] = 1.0
    buyers = indicator.sum(axis=0)
    counts = indicator.T @ indicator  # exact: integer counts
    np.fill_diagonal(counts, 0.0)
    share = counts / np.where(buyers > 0, buyers, 1.0)[:, None]
    order = np.argsort(c, kind="stable")
    c, i, times = c[order], i[order], times[order]
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]]) if len(c) else np.zeros(0, dtype=np.int64)
    step = max(1, AFFINITY_CELLS // max(n_items, 1))
    weighted, top = [], []
    for lo in range(0, len(starts), step):  # blocks of customers, vectorised over their rows
        first = starts[lo]
        last = starts[lo + step] if lo + step < len(starts) else len(c)
        block = starts[lo : lo + step] - first
        gathered = share[i[first:last]]
        terms = (gathered * times[first:last, None]).astype(np.longdouble)
        weighted.append(np.add.reduceat(terms, block, axis=0).astype(np.float64))
        top.append(np.maximum.reduceat(gathered, block, axis=0))
    w = np.concatenate(weighted) if weighted else np.zeros((0, n_items))
    m = np.concatenate(top) if top else np.zeros((0, n_items))
    row, col = np.nonzero(m > 0)
    return pa.table(
        {
            "customer_id": customers.dictionary.take(pa.array(c[starts][row])),
            "item": items.dictionary.take(pa.array(col)),
            "weighted": pa.array(w[row, col], type=pa.float64()),
            "max_cooccurrence": pa.array(m[row, col], type=pa.float64()),
        }
    )


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
    choose: Callable[[np.ndarray], np.ndarray],
) -> tuple[TrainingRows, pd.DataFrame]:
    """(the training rows, what was taken (:func:`taken`)): the candidates' customer list is read
    first, and only the candidates of the customers ``choose`` keeps (a mask over the customers from
    their candidate rows each) are built, labelled and weighted in SQL, and read. The same rows, in
    the same order, as :func:`candidates` filtered to those customers."""
    _inputs(con, config, spec, window.cutoff, None)
    took = taken(con, config, spec, window)  # replaces _qualifying, not _history
    con.register("_took", took)
    try:
        listed = con.sql(sql("models/features/recommender_customers")).to_arrow_table()
        kept = choose(listed.column("candidate_rows").to_numpy())
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
        listed.column("customer_id").to_numpy(zero_copy_only=False),
        int(pa.compute.sum(listed.column("positives")).as_py() or 0),
        keys,
        table.select(FEATURES).to_pandas(),
        table.column("label").to_numpy().astype(np.int32),
        table.column("weight").to_numpy().astype(np.float64),
    )
    return rows, took


def candidate_table(
    con: duckdb.DuckDBPyConnection, config: ModelsConfig, spec: ModelSpec, cutoff: dt.date
) -> pa.Table:
    """The candidates of :func:`candidates`, unordered, as an Arrow table (no Python objects for the ~3M
    customer x item rows of a nightly scoring)."""
    _build(con, config, spec, cutoff, None)
    out = con.sql("SELECT * FROM _candidates").to_arrow_table()
    con.execute("DROP TABLE _candidates; DROP TABLE _history")
    return out


def matrix(table: pa.Table, features: list[str]) -> np.ndarray:
    """The feature columns of an Arrow table as one float matrix (NULL: NaN), in the given order."""
    if not table.num_rows:
        return np.zeros((0, len(features)))
    return np.column_stack(
        [table.column(f).cast(pa.float64()).to_numpy(zero_copy_only=False) for f in features]
    )


def scored_top_k(con: duckdb.DuckDBPyConnection, table: pa.Table, scores: np.ndarray, k: int) -> pd.DataFrame:
    """(customer_id, score, items) from candidates and their scores: each customer's k best items (ties: item
    name), best first, and the best score; ranked in DuckDB."""
    scored = pa.table(
        {
            "customer_id": table.column("customer_id"),
            "item": table.column("item"),
            "model_score": pa.array(scores, type=pa.float64()),
        }
    )
    con.register("_scored", scored)
    try:
        q = sql("models/top_k")
        return con.execute(q, bind(q, {"k": k})).df()
    finally:
        con.unregister("_scored")


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
