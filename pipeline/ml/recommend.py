"""The recommender: candidates (customer x item) with sequence features, ranked top-k, popularity baseline."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from pipeline.config import ModelSpec, ProjectConfig
from pipeline.ml.features import TrainingWindow, build_population, qualifying_events
from pipeline.sql import bind, sql

FEATURES = ["times", "days_since", "popularity", "popularity_rank", "cooccurrence", "max_cooccurrence",
            "purchases", "distinct_items"]


def candidates(con: duckdb.DuckDBPyConnection, config: ProjectConfig, spec: ModelSpec, cutoff: dt.date,
               only: str | None = None) -> pd.DataFrame:
    """(customer_id, item, *FEATURES) for every customer of the population and every item of the history."""
    build_population(con, cutoff, only)
    qualifying_events(con, config, spec, cutoff - dt.timedelta(days=spec.history_days), cutoff)
    con.execute("CREATE OR REPLACE TEMP TABLE _history AS SELECT * FROM _qualifying")
    q = sql("features/recommender_candidates")
    con.execute(q, bind(q, {"cutoff": cutoff}))
    out = con.sql("SELECT * FROM _candidates").df()
    con.execute("DROP TABLE _candidates; DROP TABLE _history")
    return out


def taken(con: duckdb.DuckDBPyConnection, config: ProjectConfig, spec: ModelSpec, window: TrainingWindow) -> pd.DataFrame:
    """(customer_id, item): what each customer took in the label (held-out) window."""
    qualifying_events(con, config, spec, window.label_start, window.label_end)
    return con.sql("SELECT DISTINCT customer_id, item FROM _qualifying WHERE item IS NOT NULL ORDER BY 1, 2").df()


def top_k(scored: pd.DataFrame, score: str, k: int) -> pd.DataFrame:
    """(customer_id, item, rank, score): each customer's k best items (ties: item name)."""
    ranked = scored.sort_values(["customer_id", score, "item"], ascending=[True, False, True], kind="stable")
    ranked = ranked.assign(rank=ranked.groupby("customer_id").cumcount() + 1)
    return ranked.loc[ranked["rank"] <= k, ["customer_id", "item", "rank", score]].rename(columns={score: "score"})


def popularity_top_k(cands: pd.DataFrame, k: int) -> pd.DataFrame:
    """The baseline: the same k most popular items (in the history) for everyone."""
    return top_k(cands.assign(pop_score=cands["popularity"].to_numpy(dtype=float)), "pop_score", k)


def labelled(cands: pd.DataFrame, took: pd.DataFrame) -> np.ndarray:
    """1 where the candidate's customer took the candidate's item in the label window."""
    marks = took.assign(_took=1)
    return cands.merge(marks, on=["customer_id", "item"], how="left")["_took"].fillna(0).to_numpy(dtype=np.int32)
