"""The bootstrap intervals of a day's attribution_summary rows (``attribution.bootstrap`` replicates).

Reads the day's credits and the data-driven models' paths (temp tables of :mod:`.credits`), draws the
replicates (:mod:`.bootstrap`) and writes each summary row's ``conversions_lower``/``_upper`` and
``value_lower``/``_upper``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from pipeline.attribution.bootstrap import (
    LearntPaths,
    data_driven_replicates,
    day_rng,
    percentile_interval,
    redraw_nulls,
    resample_counts,
)
from pipeline.attribution.config import UNATTRIBUTED, AttributionSpec
from pipeline.attribution.models import Model
from pipeline.attribution.types.registry import DataDriven, model_type
from pipeline.core.sql import sql

SEP = "\x1f"  # joins the channels of a path (sql/attribution/bootstrap_paths.sql: chr(31))
# (path, conversions, nulls) rows of sql/attribution/paths.sql, by data-driven model
Paths = Mapping[str, Sequence[tuple[Sequence[str], int, int]]]


def _learnt_paths(con: duckdb.DuckDBPyConnection, model: str, found: Sequence[tuple]) -> LearntPaths:
    rows = con.execute(sql("attribution/bootstrap_paths"), {"model": model}).fetchnumpy()
    keys, path_of = np.unique(np.asarray(rows["path"], dtype=str), return_inverse=True)
    nulls = [(tuple(p), n) for p, _, n in found if n > 0]
    return LearntPaths(
        rows=np.asarray(rows["i"], dtype=np.int64),
        path_of=path_of,
        paths=[tuple(k.split(SEP)) for k in keys],
        null_paths=[p for p, _ in nulls],
        null_counts=np.array([n for _, n in nulls], dtype=float),
    )


def _fixed_replicates(
    con: duckdb.DuckDBPyConnection,
    day: dt.date,
    learnt: Sequence[str],
    counts: np.ndarray,
    values: np.ndarray,
    strata: np.ndarray,
    n_strata: int,
) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray]:
    """Replicates of the credits that do not change when the conversions are redrawn (every model's but
    the data-driven models' touches): (model, channel) keys and (replicates x strata x keys) totals."""
    rows = con.execute(
        sql("attribution/bootstrap_shares"), {"d": day, "learnt": list(learnt), "unattributed": UNATTRIBUTED}
    ).fetchnumpy()
    model, channel = np.asarray(rows["model"], dtype=str), np.asarray(rows["channel"], dtype=str)
    pair_names = np.char.add(np.char.add(model, SEP), channel)
    names, pair = np.unique(pair_names, return_inverse=True)
    shares = np.zeros((len(values), len(names)))
    np.add.at(shares, (np.asarray(rows["i"], dtype=np.int64), pair), np.asarray(rows["share"], dtype=float))
    conv = np.zeros((counts.shape[0], n_strata, len(names)))
    value = np.zeros_like(conv)
    for s in range(n_strata):  # a loop over the conversion sources
        members = strata == s
        conv[:, s] = counts[:, members] @ shares[members]
        value[:, s] = counts[:, members] @ (shares[members] * values[members, None])
    keys = [n.split(SEP, 1) for n in names]
    return [(m, c) for m, c in keys], conv, value


@dataclass(frozen=True)
class Replicates:
    """A day's replicate totals: ``keys`` (model, conversion source, channel) and, for each, the
    (replicates x keys) credited conversions and value."""

    keys: list[tuple[str, str, str]]
    conversions: np.ndarray
    value: np.ndarray


def day_conversions(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The day's conversions in their bootstrap order (_att_boot): i, stratum, value, conversion."""
    con.execute(sql("attribution/bootstrap_conversions"))
    return con.execute(sql("attribution/bootstrap_list")).fetchnumpy()


def replicate_totals(
    con: duckdb.DuckDBPyConnection,
    models: Sequence[Model],
    day: dt.date,
    paths: Paths,
    counts: np.ndarray,
    redraw: Callable[[str, np.ndarray], np.ndarray],
) -> Replicates:
    """Every model's credited totals per conversion source and channel in each replicate, ``counts`` being
    the replicates' counts of the day's conversions (of :func:`day_conversions`) and ``redraw(model,
    null_counts)`` the replicates' counts of a data-driven model's non-converting paths."""
    conversions = con.execute(sql("attribution/bootstrap_list")).fetchnumpy()
    strata = np.asarray(conversions["stratum"], dtype=np.int64)
    values = np.asarray(conversions["value"], dtype=float)
    n_strata = int(strata.max()) + 1
    sources = np.asarray(conversions["conversion"], dtype=str)[np.unique(strata, return_index=True)[1]]
    learnt = [m for m in models if m.name in paths]
    names = [m.name for m in learnt]
    pairs, conv, value = _fixed_replicates(con, day, names, counts, values, strata, n_strata)
    blocks_conv, blocks_value = [conv], [value]
    for m in learnt:
        kind = model_type(m.model_type)
        assert isinstance(kind, DataDriven)
        found = paths[m.name]
        channels = sorted({c for p, _, _ in found for c in p})
        model_paths = _learnt_paths(con, m.name, found)
        nulls = redraw(m.name, model_paths.null_counts)
        m_conv, m_value = data_driven_replicates(
            kind, m.params, model_paths, counts, nulls, values, strata, channels
        )
        pairs += [(m.name, c) for c in channels]
        blocks_conv.append(m_conv)
        blocks_value.append(m_value)
    keys = [(m, str(s), c) for s in sources for m, c in pairs]
    flat = (counts.shape[0], len(keys))
    return Replicates(
        keys,
        np.concatenate(blocks_conv, axis=2).reshape(flat),
        np.concatenate(blocks_value, axis=2).reshape(flat),
    )


def write_intervals(
    con: duckdb.DuckDBPyConnection, spec: AttributionSpec, models: Sequence[Model], day: dt.date, paths: Paths
) -> None:
    """Fill the bootstrap interval columns of day ``day``'s attribution_summary rows (nothing when
    ``attribution.bootstrap`` is 0)."""
    if not spec.bootstrap:
        return
    conversions = day_conversions(con)
    if len(conversions["i"]) == 0:
        return
    strata = np.asarray(conversions["stratum"], dtype=np.int64)
    counts = resample_counts(day_rng(spec.bootstrapSeed, day.toordinal()), strata, spec.bootstrap)

    def redraw(model: str, null_counts: np.ndarray) -> np.ndarray:
        return redraw_nulls(day_rng(spec.bootstrapSeed, day.toordinal(), model), null_counts, spec.bootstrap)

    reps = replicate_totals(con, models, day, paths, counts, redraw)
    conv_lo, conv_hi = percentile_interval(reps.conversions)
    value_lo, value_hi = percentile_interval(reps.value)
    table = pa.table(
        {
            "model": [k[0] for k in reps.keys],
            "conversion": [k[1] for k in reps.keys],
            "channel": [k[2] for k in reps.keys],
            "conversions_lower": conv_lo,
            "conversions_upper": conv_hi,
            "value_lower": value_lo,
            "value_upper": value_hi,
        }
    )
    con.register("_att_intervals_arrow", table)
    con.execute(sql("attribution/intervals"), {"d": day})
    con.unregister("_att_intervals_arrow")
