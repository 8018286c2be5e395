"""Features of every customer as of a cut-off date (sql/models/features), and the training windows.

Leakage: every event feature comes from sql/models/features/activity.sql, which reads only events
strictly before the cut-off (time and partition). The config chooses window lengths (>= 1 day,
looking back from the cut-off) and excluded attributes; it cannot add a feature of its own.
Customer attributes (num_*, txt_*, goal_* flags, attr_*) are the customers table's latest values (it keeps no
history), but a goal_* flag with a goal_*_timestamp column is read as of the cut-off (a goal reached at or
after it: not reached); a customer first seen on or after the cut-off is not in the population.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from pipeline.core.rules import Params, compile_all, rule_condition
from pipeline.core.sql import bind, ident, sql
from pipeline.core.warehouse import EXACT_SUM_LIMIT, execute_statements, scalar, table_exists
from pipeline.models.config import ModelsConfig, ModelSpec
from pipeline.models.labels import compile_rules, compile_weight

if TYPE_CHECKING:  # lightgbm is imported where a model is trained or loaded
    import lightgbm as lgb

ALL_VALUES = 100_000  # scoring keeps every attr_* value; the model's feature list picks its own
ZERO_WHEN_MISSING = ("count_", "value_", "attr_")  # no event / no value: 0, not unknown


class TrainingError(RuntimeError):
    """A model that cannot be trained on this data; the message says why."""


class NotEnoughData(TrainingError):
    """Too few days of events for a cut-off and a label window (a young warehouse): try again later."""


def repeated(customers: pd.Series, few: int = 3) -> str | None:
    """None when every customer occurs once; else how many occur more than once and the first ``few``
    of them (for a message)."""
    twice = customers[customers.duplicated()].drop_duplicates()
    if twice.empty:
        return None
    return f"{len(twice)} customer(s) more than once, e.g. {twice.head(few).tolist()}"


@dataclass(frozen=True)
class TrainingWindow:
    """Cut-off and label window [label_start, label_end) of one training (one version)."""

    version: dt.date
    cutoff: dt.date
    label_start: dt.date
    label_end: dt.date  # exclusive
    truncated: bool  # fewer than horizon_days of label window (a young warehouse)

    @property
    def label_days(self) -> int:
        return (self.label_end - self.label_start).days


def training_window(spec: ModelSpec, version: dt.date, first_day: dt.date | None) -> TrainingWindow:
    """The window of the version trained on day ``version`` (data up to and including that day).

    The cut-off is ``horizon_days`` before the day after ``version``, so the label window is complete.
    When that leaves fewer than ``min_history_days`` of events before it (``first_day`` is the first
    day with events: a young warehouse), the cut-off goes halfway through the days with events, but
    at least min_history_days after the first, and the label window is shorter than the horizon
    (``truncated``).
    """
    if first_day is None:
        raise NotEnoughData("there are no events in the warehouse yet: run the events asset first")
    end = version + dt.timedelta(days=1)
    cutoff = end - dt.timedelta(days=spec.label.horizon_days)
    earliest = first_day + dt.timedelta(days=spec.min_history_days)
    truncated = cutoff < earliest
    if truncated:
        cutoff = max(earliest, first_day + dt.timedelta(days=(end - first_day).days // 2))
    if cutoff >= end:
        raise NotEnoughData(
            f"not enough data for model {spec.name!r} on {version}: events start on {first_day}, "
            f"the model needs {spec.min_history_days} day(s) of history (min_history_days) "
            "and at least one day of label window after it"
        )
    return TrainingWindow(version, cutoff, cutoff, end, truncated)


def first_event_day(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    if not table_exists(con, "events"):
        return None
    return scalar(con, "SELECT min(_partition_date) FROM events WHERE customer_id IS NOT NULL")


def build_population(
    con: duckdb.DuckDBPyConnection, cutoff: dt.date, only: str | None = None, spec: ModelSpec | None = None
) -> None:
    """Temp table _population; with ``spec``, only the customers its ``population`` rules match.
    Without customer data the customers are the events' own keys (identity.unknown_keys: own_id)."""
    if not table_exists(con, "customer_identities"):
        con.execute(sql("customers/identity/create_identities"))
    if not scalar(con, sql("models/features/has_customer_data")):
        con.execute(sql("customers/events/create_events"))
        con.execute(sql("models/features/customers_from_events"))
    params = Params("segment")
    segment = "TRUE"
    if spec is not None and spec.population:
        have = {r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE customers)").fetchall()}
        missing = sorted({r.field for r in spec.population} - have)
        if missing:
            raise TrainingError(
                f"model {spec.name!r}: the population rules read {missing}, which the customer data "
                "does not have (yet)"
            )
        segment = compile_all([rule_condition(r, {}, customers=True) for r in spec.population], params)
    q = sql("models/features/population", fragments={"segment": segment, "as_of": goals_as_of(con)})
    con.execute(q, bind(q, {"cutoff": cutoff, "only": only, **params.values}))


def goals_as_of(con: duckdb.DuckDBPyConnection) -> str:
    """The fragment of sql/models/features/attributes.sql that reads each goal_* flag of the customer
    data with a goal_*_timestamp column as of the cut-off: FALSE where the goal was reached at or after
    it (its flag is the latest value, set since). Empty when no goal has a timestamp column."""
    have = {r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE customers)").fetchall()}
    goals = sorted(
        c for c in have if c.startswith("goal_") and not c.endswith("_timestamp") and f"{c}_timestamp" in have
    )
    if not goals:
        return ""
    replaced = ", ".join(
        f"CASE WHEN {ident(g)} AND {ident(g + '_timestamp')} >= $cutoff::TIMESTAMP THEN FALSE "
        f"ELSE {ident(g)} END AS {ident(g)}"
        for g in goals
    )
    return f"REPLACE ({replaced})"


def window_aggregates(windows: int, wide: bool = False) -> dict[str, str]:
    """The fragments of sql/models/features/activity.sql for ``windows`` windows: per window (its place
    in the ascending windows, 1-based, in ``w.ws``, the window in seconds) the count and the sum of
    ``value`` of the events within it: exact (DECIMAL), or as doubles where the values could add up past
    what it holds (``wide``: 1e20; the features are doubles either way). Only places, never a value:
    the windows are bound."""
    within = [f"ev.age_s <= w.ws[{i}]" for i in range(1, windows + 1)]
    value = "ev.value::DOUBLE" if wide else "ev.value"
    return {
        "counts": ", ".join(f"count(CASE WHEN {c} THEN 1 END)" for c in within),
        "sums": ", ".join(f"sum(CASE WHEN {c} THEN {value} END)" for c in within),
    }


def _long_features(con: duckdb.DuckDBPyConnection, spec: ModelSpec, cutoff: dt.date, top: int) -> None:
    """Temp tables _long (row of the customer in _rows, fid, value): the event features and the attr_*
    indicators, and _feature_ids (fid, feature): their names."""
    if table_exists(con, "events"):
        # the values could add up past what an exact sum holds: summed as doubles
        wide = float(scalar(con, sql("core/value_bound", idents={"table": "events"}))) >= EXACT_SUM_LIMIT
        execute_statements(
            con,
            sql("models/features/activity", fragments=window_aggregates(len(spec.windows), wide)),
            {"cutoff": cutoff, "history_days": spec.history_days, "windows": spec.windows},
        )
    else:
        con.execute(sql("models/features/no_activity"))
    con.execute(sql("models/features/long"))
    if scalar(con, sql("models/features/has_attributes")) and top > 0:
        execute_statements(con, sql("models/features/attr_values"), {"top": top})


def _wide(con: duckdb.DuckDBPyConnection, n: int) -> pd.DataFrame:
    """_long pivoted to one row per row of _rows and one column per feature with a cell, in name order
    (NaN where no cell), in NumPy: each feature number's column is found once, not per cell."""
    cells = con.sql(sql("models/features/cells")).to_arrow_table()  # Arrow, then NumPy: no NULL to mask
    fids = cells.column("fid").to_numpy().astype(np.int64)
    named = con.execute(sql("models/features/feature_names")).fetchall()
    present = np.bincount(fids, minlength=max((f for f, _ in named), default=0) + 1) > 0
    column = np.full(len(present), -1, dtype=np.int64)
    names: list[str] = []
    for fid, feature in named:  # the names, not the cells: a few hundred at most
        if present[fid]:
            if not names or names[-1] != feature:  # two numbers of one name (types cleaned alike): one column
                names.append(feature)
            column[fid] = len(names) - 1
    matrix = np.full((n, len(names)), np.nan)
    matrix[cells.column("row").to_numpy(), column[fids]] = cells.column("value").to_numpy()
    con.execute(sql("models/features/drop_cells"))
    return pd.DataFrame(matrix, columns=names)


def feature_frame(
    con: duckdb.DuckDBPyConnection,
    spec: ModelSpec,
    cutoff: dt.date,
    only: str | None = None,
    top: int = ALL_VALUES,
    segment: bool = False,
) -> pd.DataFrame:
    """Every feature of every customer of the population (before exclusions; with ``segment``, of the
    training population the model's ``population`` rules keep); see customer_features."""
    build_population(con, cutoff, only, spec if segment else None)
    con.execute(sql("models/features/rows"))
    population = (
        con.sql("SELECT customer_id, days_since_first_seen FROM _rows ORDER BY row")
        .df()
        .set_index("customer_id")
    )
    q = sql("models/features/attributes", fragments={"as_of": goals_as_of(con)})
    attributes = con.execute(q, bind(q, {"cutoff": cutoff})).df().rename(columns={"customuid": "customer_id"})
    attributes = attributes.set_index("customer_id")
    _long_features(con, spec, cutoff, top)
    wide = _wide(con, len(population)).set_axis(population.index, axis=0)
    con.execute("DROP TABLE _rows")
    frame = pd.concat([population, attributes.reindex(population.index), wide], axis=1)
    typed = {}  # the columns typed one by one, then one frame in name order (not ~90 in-place writes)
    for column in frame.columns:
        values = frame[column]
        if column.startswith("txt_"):
            typed[column] = values.astype("category")
        elif column.startswith(ZERO_WHEN_MISSING):
            typed[column] = values.fillna(0.0).astype(float)
        elif values.dtype == np.float64:  # already what the coercion below would make of it
            typed[column] = values
        else:
            typed[column] = pd.to_numeric(values.astype(object), errors="coerce").astype(float)
    return pd.DataFrame({c: typed[c] for c in sorted(typed)}, index=frame.index)


def model_input(X: pd.DataFrame, booster: lgb.Booster | None = None) -> pd.DataFrame:
    """X as LightGBM is given it: each txt_* category replaced by a 63-bit hash of its text.

    LightGBM writes the categories of a pandas categorical into the model file; with the texts
    themselves that would be every customer text value, where forget cannot reach it. The hashes
    keep the categories' order, so LightGBM sees the same codes and trains the same trees; scoring
    maps its texts through the same hash. Explanations keep the texts (they read X, not this). A
    ``booster`` saved before (its categories are texts) is given the texts."""
    texts = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    saved = getattr(booster, "pandas_categorical", None) or []
    if not texts or any(isinstance(v, str) for values in saved for v in values):
        return X
    out = X.copy(deep=False)
    for c in texts:
        hashed = [text_hash(str(v)) for v in X[c].cat.categories]  # the distinct values, not the rows
        out[c] = (
            X[c].cat.rename_categories(hashed)
            if len(set(hashed)) == len(hashed)
            else X[c].astype(object).map(text_hash, na_action="ignore").astype("category")
        )
    return out


def text_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


def customer_features(
    con: duckdb.DuckDBPyConnection,
    spec: ModelSpec,
    cutoff: dt.date,
    only: str | None = None,
    scoring: bool = False,
) -> pd.DataFrame:
    """One row per customer of the population (index customer_id, sorted), one column per feature.

    Count, value and attr_* indicator features are 0 when the customer has none; recency features are
    NaN (never); txt_* attributes are pandas categoricals (LightGBM's native categorical handling).
    """
    frame = feature_frame(
        con, spec, cutoff, only, ALL_VALUES if scoring else spec.top_attr_values, segment=not scoring
    )
    return frame.drop(columns=excluded(spec, frame.columns))


def excluded(spec: ModelSpec, columns) -> list[str]:
    """The columns the config excludes: by name, or every indicator of an excluded attr_* column."""
    return [
        c for c in columns if c in spec.exclude or c.split("__")[0] in spec.exclude or c == spec.label.goal
    ]


def qualifying_events(
    con: duckdb.DuckDBPyConnection,
    config: ModelsConfig,
    spec: ModelSpec,
    start: dt.date | dt.datetime,
    end: dt.date,
) -> None:
    """Temp table _qualifying(customer_id, occurred_at, value, item, weight) of the label rules' events
    in [start, end)."""
    params = Params("rule")
    rules = compile_rules(config.transactions, spec.label.rules, params)
    weight = compile_weight(config.transactions, spec.label.rules, params)
    q = sql("models/features/qualifying", fragments={"rules": rules, "weight": weight})
    con.execute(
        q, bind(q, {**params.values, "start": start, "end": end, "item_field": spec.item_field or "-"})
    )


def goal_labels(con: duckdb.DuckDBPyConnection, spec: ModelSpec, window: TrainingWindow) -> pd.DataFrame:
    """(customer_id, label) of a goal label: 1 when the customer reached the goal (goal_*) in the label
    window by its goal_*_timestamp, else 0; those who reached it before the cut-off are left out."""
    goal = spec.label.goal or ""
    stamp = f"{goal}_timestamp"
    have = {r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE customers)").fetchall()}
    for column in (goal, stamp):
        if column not in have:
            raise TrainingError(
                f"model {spec.name!r}: the goal label needs the customer data column {column!r} "
                "(a goal and the time it was reached), which it does not have"
            )
    q = sql("models/features/goal_label", idents={"goal": goal, "stamp": stamp})
    return con.execute(q, bind(q, {"start": window.label_start, "end": window.label_end})).df()


def labels(
    con: duckdb.DuckDBPyConnection,
    config: ModelsConfig,
    spec: ModelSpec,
    window: TrainingWindow,
    inverted: bool = False,
) -> pd.Series:
    """The label (0/1) of each customer of _population (built for window.cutoff), index customer_id.

    With label rules: 1 for a qualifying event in the label window, or, ``inverted`` (churn), 1 for
    none; with a goal, see goal_labels (not inverted)."""
    if spec.label.customer_list:
        path = config.resolve(spec.label.customer_list)
        if not path.is_file():
            raise TrainingError(f"model {spec.name!r}: the customer list {path} does not exist")
        q = sql("models/features/customer_list")
        out = con.execute(q, bind(q, {"path": str(path)})).df()
        bad = out[~out["label"].isin([0, 1])]
        if len(bad):
            raise TrainingError(
                f"model {spec.name!r}: the customer list {path} has labels other than 1/0 "
                f"(e.g. {bad['label'].iloc[0]!r} for {bad['customer_id'].iloc[0]!r})"
            )
        if twice := repeated(out["customer_id"]):
            raise TrainingError(
                f"model {spec.name!r}: the customer list {path} has {twice}: give each customer one label"
            )
    elif spec.label.goal:
        out = goal_labels(con, spec, window)
    else:
        qualifying_events(con, config, spec, window.label_start, window.label_end)
        q = sql("models/features/label")
        out = con.execute(q, bind(q, {"inverted": int(inverted)})).df()
    return out.set_index("customer_id")["label"].astype(np.int32)
