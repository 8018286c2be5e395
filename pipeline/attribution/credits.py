"""Attribution: split each conversion's value over the marketing touches before it.

The model types (pipeline/attribution/types/, one module each, registered):

- rule-based (``first``, ``last``, ``spread``, ``position``, ``time_decay``): computed for every model
  at once in DuckDB SQL (sql/attribution/ranked.sql, rule_credits.sql), one pass over the touches in
  each model's lookback window with window functions;
- data-driven (``markov``, ``shapley``): learnt from the day's aggregated paths (sql/attribution/paths.sql)
  with NumPy, then applied per conversion in SQL (data_driven_shares.sql).

A conversion that no touch of a model explains is credited whole to ``(unattributed)``. This module
orchestrates: the touches (:mod:`pipeline.attribution.touches`), learning, writing the credits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager

import duckdb
import numpy as np
import pyarrow as pa

from pipeline.attribution.config import UNATTRIBUTED, AttributionConfig, AttributionSpec
from pipeline.attribution.intervals import write_intervals
from pipeline.attribution.models import Model, all_models
from pipeline.attribution.ranges import sized_ranges
from pipeline.attribution.touches import (
    in_set,
    is_data_driven,
    learning_days,
    model_filter,
    prepare,
    set_key,
    touch_sets,
)
from pipeline.attribution.types.paths import Paths
from pipeline.attribution.types.registry import DataDriven, RuleBased, model_type
from pipeline.core.catalog import CUSTOMER_ID, register_customer_table
from pipeline.core.parts import record_parts
from pipeline.core.rules import Params
from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import EXACT_SUM_LIMIT, any_insert_order, scalar, transaction

CREDITS = "attribution_credits"
SUMMARY = "attribution_summary"
DAYS = "attribution_days"  # the days attributed, with or without conversions
# sql/attribution/paths.sql packs a touch in a BIGINT: a day of the range in 10 bits, a channel in 20
PATHS_MAX_DAYS = 1024
PATHS_MAX_CHANNELS = 1 << 20
SEP = "\x1f"  # joins the channels of a channel set (sql/attribution/data_driven_shares.sql: chr(31))
_PATH_COLUMNS = ("path", "conversions", "nulls")
_WEIGHTS_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),
        ("model", pa.string()),
        ("channel_set", pa.string()),
        ("channel", pa.string()),
        ("weight", pa.float64()),
    ]
)


def _rule_credits_sql(
    models: Sequence[Model], target: str, names: Collection[str], per_channel: bool = False
) -> tuple[str, dict]:
    """sql/attribution/rule_credits.sql: each rule-based model of ``names``' weight and total over its
    touch set, per touch into ``target``; with ``per_channel``, channel_credits.sql: summed per
    conversion number and channel (model_channels.sql) into _att_channel_credits."""
    params = Params("w")
    sets = touch_sets(models)
    selects = []
    for m in models:
        kind = model_type(m.model_type)
        if not isinstance(kind, RuleBased) or m.name not in names:
            continue
        # a parameter's type is only known from its value: keep the weights DOUBLE
        bound = {key: f"{params.add(value)}::DOUBLE" for key, value in m.params.items()}
        fragments = {
            "model": params.add(m.name),
            "model_type": params.add(m.model_type),
            "weight_of": kind.weight(bound),
            "total_of": kind.total(bound),
            "touches": in_set(sets[set_key(m)]),
        }
        select = sql("attribution/rule_model", fragments=fragments)
        if per_channel:
            named = {"model": fragments["model"], "model_type": fragments["model_type"], "touches": select}
            select = sql("attribution/model_channels", fragments=named)
        selects.append(select)
    if not selects:
        return "", {}
    union = " UNION ALL ".join(selects)
    if per_channel:
        return sql("attribution/channel_credits", fragments={"model_channels": union}), params.values
    query = sql("attribution/rule_credits", idents={"target": target}, fragments={"model_credits": union})
    return query, params.values


def _paths(
    con: duckdb.DuckDBPyConnection,
    models: Sequence[Model],
    first: dt.date,
    last: dt.date,
    ordered: bool = False,
) -> tuple[dict[tuple, pa.Table], list[str]]:
    """Each data-driven touch set's aggregated paths (day, path, conversions, nulls) of the days ``first``
    to ``last``, in one statement per set (sql/attribution/paths.sql): models reading the same touches
    (e.g. Markov and Shapley) share their paths. A path is a list of codes into the channels returned
    beside the tables (sorted); a day's rows come in no particular order unless ``ordered`` (by path)."""
    learning = learning_days(models)
    assert (last - first).days < PATHS_MAX_DAYS, "paths.sql packs a day of the range in 10 bits"
    channels = [c for (c,) in con.execute(sql("attribution/path_channels")).fetchall()]  # channels, not rows
    if len(channels) > PATHS_MAX_CHANNELS:
        raise ValueError(f"attribution: more than {PATHS_MAX_CHANNELS} distinct channels in the touches")
    found: dict[tuple, pa.Table] = {}
    for m in models:
        if set_key(m) in found:
            continue
        params = Params("f")
        query = sql("attribution/paths", fragments={"model_filter": model_filter(m, params)})
        values = {
            **params.values,
            "model": m.name,
            "first": first,
            "last": last,
            "lookback": m.lookback_days,
            "learning": learning,
            "channels": channels,
            "ordered": ordered,
        }
        found[set_key(m)] = con.sql(query, params=bind(query, values)).to_arrow_table()
    return found, channels


def _by_day(
    table: pa.Table, channels: Sequence[str]
) -> Iterator[tuple[dt.date, Paths, np.ndarray, np.ndarray]]:
    """Each day of a paths table (sorted by day, paths as codes into ``channels``) as the day alone reads
    it: its paths (no Python object per path), conversions and nulls, one day at a time."""
    days = table.column("day").to_numpy(zero_copy_only=False)
    if len(days) == 0:
        return
    starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    bounds = [*starts.tolist(), len(days)]
    path = table.column("path").combine_chunks()
    conversions, nulls = (table.column(c).to_numpy().astype(np.int64) for c in _PATH_COLUMNS[1:])
    for day, a, b in zip(days[starts].tolist(), bounds[:-1], bounds[1:], strict=True):  # days, not rows
        yield day, Paths.of_codes(path.slice(a, b - a), channels), conversions[a:b], nulls[a:b]


def _learn(
    con: duckdb.DuckDBPyConnection,
    models: Sequence[Model],
    first: dt.date,
    last: dt.date | None = None,
    keep: bool = False,
) -> dict[dt.date, dict[str, list]]:
    """The temp table _att_weights: each data-driven model's channel weights per day and channel set,
    each day learnt from its own paths (read for all the days ``first`` to ``last`` at once, made Python
    objects one day at a time). With ``keep`` (the bootstrap intervals read them), returns each day's
    paths (path, conversions, nulls) by model, for the models with a conversion that day; else nothing
    is kept (a range's paths would hold gigabytes at SF1)."""
    rows: dict[str, list] = {"day": [], "model": [], "channel_set": [], "channel": [], "weight": []}
    used: dict[dt.date, dict[str, list]] = {}
    # the bootstrap redraws the paths in their order: sorted, as a day alone gives them
    tables, channels = _paths(con, models, first, last or first, ordered=keep)
    for key in list(tables):  # a loop over the touch sets, then their days
        for day, paths, conv, nulls in _by_day(tables.pop(key), channels):
            if not conv.any():
                continue
            found = list(zip(paths.lists(), conv.tolist(), nulls.tolist(), strict=True)) if keep else []
            for m in (m for m in models if set_key(m) == key):
                kind = model_type(m.model_type)
                assert isinstance(kind, DataDriven) and m.lookback_days is not None
                if keep:
                    used.setdefault(day, {})[m.name] = found
                for s, weights in kind.channel_weights(m.params, paths, conv, nulls).items():
                    for c, weight in weights.items():
                        rows["day"].append(day)
                        rows["model"].append(m.name)
                        rows["channel_set"].append(SEP.join(sorted(s)))
                        rows["channel"].append(c)
                        rows["weight"].append(weight)
    con.register("_att_weights_arrow", pa.table(rows, schema=_WEIGHTS_SCHEMA))
    con.execute(sql("attribution/weights"))
    con.unregister("_att_weights_arrow")
    return used


def _write_credits(
    con: duckdb.DuckDBPyConnection, models: Sequence[Model], target: str, grouped: Collection[str] = ()
) -> None:
    """Insert every model's credits for the conversions prepared (of a day or a range) into ``target``
    (prepared and learnt), those of the models in ``grouped`` already summed per channel into
    _att_channel_credits (as credits_write.sql writes them, without their rows per touch)."""
    per_touch = [m.name for m in models if m.name not in grouped]
    for names, per_channel in ((per_touch, False), (grouped, True)):
        query, params = _rule_credits_sql(models, target, names, per_channel)
        if query:
            con.execute(query, bind(query, params))
    split = sorted(
        name
        for name in {m.model_type for m in models}
        if isinstance(kind := model_type(name), DataDriven) and kind.split_over_touches
    )
    shares = sql("attribution/data_driven_shares")
    data_driven = [m.name for m in models if is_data_driven(m)]
    for names, query in (
        (
            [n for n in data_driven if n not in grouped],
            sql("attribution/data_driven_credits", idents={"target": target}, fragments={"shares": shares}),
        ),
        (
            [n for n in data_driven if n in grouped],
            sql(
                "attribution/channel_credits",
                fragments={"model_channels": sql("attribution/data_driven_channels")},
            ),
        ),
    ):
        if names:
            con.execute(query, {"split": split, "models": names})
    con.execute(sql("attribution/data_driven_totals", idents={"target": target}))
    query = sql("attribution/unattributed", idents={"target": target})
    con.execute(query, {"unattributed": UNATTRIBUTED})


def _credits(
    con: duckdb.DuckDBPyConnection,
    spec: AttributionSpec,
    models: Sequence[Model],
    first: dt.date,
    last: dt.date,
    grouped: Collection[str] = (),
) -> dict[dt.date, dict[str, list]]:
    """Fill the temp table _att_credits with every model's credits for the conversions of the days
    ``first`` to ``last`` (those of ``grouped`` per channel, :func:`_write_credits`); returns the
    data-driven models' paths of each day (see :func:`_learn`)."""
    prepare(con, spec, models, first, last)
    paths = _learn(con, [m for m in models if is_data_driven(m)], first, last, keep=spec.bootstrap > 0)
    con.execute(sql("attribution/empty_credits"))
    _write_credits(con, models, "_att_credits", grouped)
    return paths


def _grouped(spec: AttributionSpec, models: Sequence[Model]) -> list[str]:
    """The models whose credits are summed per channel as they are computed: those not in
    ``attribution.perTouchCredits``, when no bootstrap interval reads their rows per touch."""
    if spec.bootstrap:
        return []
    return [m.name for m in models if not spec.per_touch(m.name)]


def compute_credits(
    con: duckdb.DuckDBPyConnection, spec: AttributionSpec, models: Sequence[Model], day: dt.date
) -> None:
    """Fill the temp table _att_credits with every model's credits for the conversions of ``day``."""
    _credits(con, spec, models, day, day)


def _summary_sql(con: duckdb.DuckDBPyConnection, days: dict[str, dt.date]) -> str:
    """sql/attribution/summary.sql, or summary_wide.sql (slower) when the days' values could add up to
    EXACT_SUM_LIMIT in a channel."""
    wide = float(scalar(con, sql("attribution/value_bound"), days)) >= EXACT_SUM_LIMIT
    credits = sql("attribution/summary_credits")
    return sql("attribution/summary_wide" if wide else "attribution/summary", fragments={"credits": credits})


def _replace_days(
    con: duckdb.DuckDBPyConnection,
    config: AttributionConfig,
    models: Sequence[Model],
    first: dt.date,
    last: dt.date,
    paths: dict[str, list] | None,
) -> dict[str, int]:
    """Replace the days ``first`` to ``last`` of attribution_credits and attribution_summary with the
    credits per touch of _att_credits, in one transaction (``paths``: the day's, for its intervals)."""
    days = {"a": first, "b": last}
    per_touch = [m.name for m in models if config.attribution.per_touch(m.name)]
    with transaction(con):
        con.execute(sql("attribution/delete_day", idents={"table": CREDITS, "day": "_partition_date"}), days)
        con.execute(sql("attribution/credits_write"), {**days, "per_touch": per_touch})
        record_parts(con, CREDITS, "_partition_date", first, last)  # for the published snapshot
        con.execute(sql("attribution/delete_day", idents={"table": DAYS, "day": "day"}), days)
        con.execute(sql("attribution/record_days"), days)
        con.execute(sql("attribution/delete_day", idents={"table": SUMMARY, "day": "date"}), days)
        con.execute(_summary_sql(con, days), days)
        if paths is not None:
            write_intervals(con, config.attribution, models, first, paths)
    conversions, credits = con.execute(sql("attribution/counts"), days).fetchall()[0]
    con.execute(sql("attribution/drop_temp"))
    return {"conversions": conversions, "credits": credits}


@contextmanager
def _any_order(con: duckdb.DuckDBPyConnection, spec: AttributionSpec) -> Iterator[None]:
    """Attribute without keeping the order rows are inserted in (every sum of credits is exact, every
    sequence it reads is sorted); kept with bootstrap intervals (bootstrap_shares.sql adds up doubles
    in the order it reads them)."""
    if spec.bootstrap:
        yield
        return
    with any_insert_order(con):
        yield


def _start(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(sql("customers/events/create_events"))
    con.execute(sql("attribution/create_tables"))
    register_customer_table(con, CREDITS, "customer_id", CUSTOMER_ID)


def build_attribution(
    con: duckdb.DuckDBPyConnection, config: AttributionConfig, day: dt.date
) -> dict[str, int]:
    """Replace the ``day`` partition of attribution_credits and attribution_summary (one transaction).
    The credits per touch are computed into the temp table _att_credits (without intervals, those of
    the models not in ``attribution.perTouchCredits`` already per channel into _att_channel_credits,
    summed per conversion number and model as they are computed), which the summary and its
    intervals read; the table gets one row per conversion, model and channel (per touch for the models
    of ``attribution.perTouchCredits``)."""
    _start(con)
    models = all_models(config.attribution)
    with _any_order(con, config.attribution):
        paths = _credits(con, config.attribution, models, day, day, _grouped(config.attribution, models))
        return _replace_days(con, config, models, day, day, paths.get(day, {}))


def build_attribution_range(
    con: duckdb.DuckDBPyConnection, config: AttributionConfig, first: dt.date, last: dt.date
) -> dict[str, int]:
    """Replace the days ``first`` to ``last`` as :func:`build_attribution` does each day alone, with the
    same rows, every model at once: one read of the touches, one ranking of the conversions' candidates,
    each data-driven model's paths of every day in one statement (each day learns from its own). A day's
    intervals (``attribution.bootstrap``) need the day alone: use build_attribution then."""
    assert not config.attribution.bootstrap
    _start(con)
    models = all_models(config.attribution)
    with _any_order(con, config.attribution):
        _credits(con, config.attribution, models, first, last, _grouped(config.attribution, models))
        return _replace_days(con, config, models, first, last, None)


def attribution_ranges(
    con: duckdb.DuckDBPyConnection, config: AttributionConfig, days: Sequence[dt.date]
) -> list[tuple[dt.date, dt.date]]:
    """Consecutive ``days`` as ranges attributed at once, each range's first and last day: as many days
    as the connection's memory_limit holds, up to 7; two where it holds one, when a learning window is
    read and the pair's estimate is within PAIR_OVER budgets
    (:func:`pipeline.attribution.ranges.sized_ranges`); one day at a time with bootstrap intervals."""
    if config.attribution.bootstrap or len(days) == 1:
        return [(day, day) for day in days]
    return sized_ranges(con, config.attribution, all_models(config.attribution), days)


def attribute_range(
    con: duckdb.DuckDBPyConnection, config: AttributionConfig, first: dt.date, last: dt.date
) -> dict[str, int]:
    """Attribute the days ``first`` to ``last`` (one of :func:`attribution_ranges`); returns its counts."""
    if first == last:
        return build_attribution(con, config, first)
    return build_attribution_range(con, config, first, last)


def attribute_days(
    con: duckdb.DuckDBPyConnection, config: AttributionConfig, days: Sequence[dt.date]
) -> Iterator[tuple[dt.date, dt.date, dict[str, int]]]:
    """Attribute consecutive ``days``, range by range (:func:`attribution_ranges`); yields each range's
    first and last day and its counts."""
    for first, last in attribution_ranges(con, config, days):  # a loop over ranges of days, not rows
        yield first, last, attribute_range(con, config, first, last)
