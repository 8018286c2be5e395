"""The day's conversions, touches and each model's touch set, as temp tables (sql/attribution/).

:func:`prepare` fills _att_channels, _att_models, _att_conversions, _att_touches,
_att_ranked (every candidate ranked once per touch set) and _att_pairs (the data-driven models'
pairs). Models that read the same touches (lookback, channel filter, match criteria) share a set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb

from pipeline.attribution.config import ATTRIBUTION_FIELDS, TOUCH_FIELDS, AttributionSpec
from pipeline.attribution.models import Model
from pipeline.attribution.types.registry import DataDriven, model_type
from pipeline.core.rules import Params, compile_all, condition
from pipeline.core.sql import bind, ident, sql

# The SQL of each criterion field: over an event ``e`` (conversions, touchpoints) or a touch ``t``.
_EVENT_COLUMNS = {
    "channel": "channel",
    "campaign": "utm_campaign",
    "source": "utm_source",
    "medium": "utm_medium",
    "term": "utm_term",
    "content": "utm_content",
    "type": "type",
    "context": "context",
    "value": "value",
    "time": "occurred_at",
}
assert set(_EVENT_COLUMNS) == set(ATTRIBUTION_FIELDS)
EVENT_COLUMNS = {k: f"e.{ident(c)}" for k, c in _EVENT_COLUMNS.items()}
TOUCH_COLUMNS = {**{k: f"t.{ident(k)}" for k in TOUCH_FIELDS}, "time": f"t.{ident('touched_at')}"}


def is_data_driven(m: Model) -> bool:
    return isinstance(model_type(m.model_type), DataDriven)


def conversion_sources(spec: AttributionSpec) -> tuple[str, dict]:
    """The conversions of the days $a to $b as a query: one conversion_source.sql per conversion source
    (or no_conversions.sql), joined by UNION ALL; and its parameters."""
    params = Params("c")
    sources = []
    for c in spec.conversions:
        conds = [condition(m.field, m.op, m.value, ATTRIBUTION_FIELDS) for m in c.matchCriteria]
        fragments = {"name": params.add(c.name), "type": params.add(c.type), "value": params.add(c.value)}
        match = compile_all(conds, params, EVENT_COLUMNS)
        sources.append(sql("attribution/conversion_source", fragments={**fragments, "match": match}))
    union = " UNION ALL ".join(sources) if sources else sql("attribution/no_conversions")
    return union, params.values


def _conversions_sql(spec: AttributionSpec) -> tuple[str, dict]:
    """sql/attribution/conversions.sql: the conversion sources' conversions (:func:`conversion_sources`)."""
    union, params = conversion_sources(spec)
    return sql("attribution/conversions", fragments={"sources": union}), params


# The columns of a touch that only a model's match criteria read (sql/attribution/touches.sql), with
# their type (sql/attribution/no_touches.sql).
CRITERIA_COLUMNS = {
    "campaign": "VARCHAR",
    "source": "VARCHAR",
    "medium": "VARCHAR",
    "term": "VARCHAR",
    "content": "VARCHAR",
    "type": "VARCHAR",
    "context": "VARCHAR",
    "value": "DECIMAL(38, 18)",
}
assert set(CRITERIA_COLUMNS) == set(TOUCH_FIELDS) - {"channel", "time", "paid"}


def touch_criteria_columns(models: Sequence[Model]) -> str:
    """The <criteria> columns of sql/attribution/touches.sql over its touches ``u``: each of
    CRITERIA_COLUMNS the match criteria of ``models`` test, the others NULL (not copied)."""
    tested = {c.field for m in models for c in m.criteria}
    return ", ".join(
        f"u.{ident(name)}" if name in tested else f"NULL::{kind} AS {ident(name)}"
        for name, kind in CRITERIA_COLUMNS.items()
    )


def _touches_sql(spec: AttributionSpec, models: Sequence[Model]) -> tuple[str, dict]:
    """sql/attribution/touches.sql: one touch_source.sql per touchpoint spec (an event matching two
    specs of one type is one touch, the first spec's: touches_once.sql), with the columns the match
    criteria of ``models`` test."""
    params = Params("t")
    sources = []
    for i, tp in enumerate(spec.touchpoints):
        conds = [condition(m.field, m.op, m.value, ATTRIBUTION_FIELDS) for m in tp.matchCriteria]
        fragments = {"spec": params.add(i), "channel": params.add(tp.channel), "type": params.add(tp.type)}
        match = compile_all(conds, params, EVENT_COLUMNS)
        sources.append(sql("attribution/touch_source", fragments={**fragments, "match": match}))
    union = " UNION ALL ".join(sources) if sources else sql("attribution/no_touches")
    types = [tp.type for tp in spec.touchpoints]
    if len(set(types)) < len(types):
        union = sql("attribution/touches_once", fragments={"touches": union})
    fragments = {"touches": union, "criteria": touch_criteria_columns(models)}
    return sql("attribution/touches", fragments=fragments), params.values


def model_filter(m: Model, params: Params) -> str:
    """SQL over a touch ``t``: the model's match criteria and channel filter (TRUE when it has none)."""
    where = [compile_all(m.criteria, params, TOUCH_COLUMNS)]
    channel = TOUCH_COLUMNS["channel"]
    if m.channels_mode == "include":
        where.append(f"list_contains({params.add(list(m.channels))}::VARCHAR[], {channel})")
    elif m.channels_mode == "exclude":
        where.append(f"NOT list_contains({params.add(list(m.channels))}::VARCHAR[], {channel})")
    return " AND ".join(where)


def set_key(m: Model) -> tuple:
    """What a model's touch set is made of: models with the same key share one set."""
    return (m.lookback_days, m.channels_mode, m.channels, m.criteria)


def touch_sets(models: Sequence[Model]) -> dict[tuple, int]:
    """The touch set number of each set key, in the models' order."""
    sets: dict[tuple, int] = {}
    for m in models:
        sets.setdefault(set_key(m), len(sets))
    return sets


def _set_models(models: Sequence[Model]) -> dict[int, Model]:
    """The first model of each touch set, by set number."""
    firsts: dict[int, Model] = {}
    sets = touch_sets(models)
    for m in models:
        firsts.setdefault(sets[set_key(m)], m)
    return firsts


def _ranked_sql(models: Sequence[Model], candidates: str) -> tuple[str, dict]:
    """sql/attribution/ranked.sql: for each touch set k, whether a candidate (of the query ``candidates``)
    is in it (p<k>), where it stands there (pos<k>: first 1, last n<k>, else 2), the set's size (n<k>)
    and last touch (last<k>) for the conversion; one group per conversion, no window. Positions and
    sizes are INTEGERs, not HUGEINTs: 96 bytes less a candidate, about a fifth of a range's peak in
    DuckDB (bench/NOTES.md, attmem), the same credits."""
    params = Params("k")
    passes, counts, positions, in_sets = [], [], [], []
    for k, m in _set_models(models).items():
        touched, converted = ident("touched_at"), ident("converted_at")
        lookback = (
            "TRUE"
            if m.lookback_days is None
            else f"t.{touched} >= t.{converted} - to_days({params.add(m.lookback_days)}::INTEGER)"
        )
        p, n, first, final = (ident(f"{name}{k}") for name in ("p", "n", "first", "final"))
        passes.append(f"({model_filter(m, params)} AND {lookback}) AS {p}")
        in_sets.append(p)
        counts += [
            f"count(*) FILTER ({p})::INTEGER AS {n}",
            f"min(ord) FILTER ({p}) AS {first}",
            f"max(ord) FILTER ({p}) AS {final}",
            f"max({touched}) FILTER ({p}) AS {ident(f'last{k}')}",
        ]
        positions += [
            f"CASE WHEN c.ord = s.{first} THEN 1 WHEN c.ord = s.{final} THEN s.{n} ELSE 2 END::INTEGER"
            f" AS {ident(f'pos{k}')}",
            f"s.{n}",
            f"s.{ident(f'last{k}')}",
        ]
    fragments = {
        "passes": ", ".join(passes),
        "sets": ", ".join(f"c.{p}" for p in in_sets),
        "counts": ", ".join(counts),
        "positions": ", ".join(positions),
        "candidates": candidates,
    }
    query = sql("attribution/ranked", fragments=fragments)
    return query, params.values


def in_set(k: int, positions: bool = False) -> str:
    """sql/attribution/touch_set.sql: a model's touches from _att_ranked, those of its set k; with
    ``positions``, pos is each touch's position in the set (a window: the data-driven models' pairs)."""
    pos = "row_number() OVER (PARTITION BY cix ORDER BY ord)" if positions else ident(f"pos{k}")
    return sql(
        "attribution/touch_set",
        idents={"in_set_k": f"p{k}", "n_k": f"n{k}", "last_k": f"last{k}"},
        fragments={"pos_k": pos},
    )


def _pairs_sql(models: Sequence[Model]) -> tuple[str, dict]:
    """sql/attribution/pairs.sql: the data-driven models' (conversion, touch) pairs, from their touch sets."""
    params = Params("d")
    sets = touch_sets(models)
    pairs = [
        sql(
            "attribution/pair_model",
            fragments={
                "model": params.add(m.name),
                "model_type": params.add(m.model_type),
                "touches": in_set(sets[set_key(m)], positions=True),
            },
        )
        for m in models
        if is_data_driven(m)
    ]
    union = (
        " UNION ALL ".join(pairs) if pairs else sql("attribution/no_pairs", fragments={"touches": in_set(0)})
    )
    return sql("attribution/pairs", fragments={"model_pairs": union}), params.values


def prepare(
    con: duckdb.DuckDBPyConnection,
    spec: AttributionSpec,
    models: Sequence[Model],
    day: dt.date,
    last: dt.date | None = None,
) -> None:
    """The temp tables of the day's attribution, up to _att_ranked and _att_pairs; with ``last``, of the
    days ``day`` to ``last`` at once (each conversion with the touches its day alone reads, and the
    touches every day's non-converting paths need: :func:`learning_days`)."""
    last = last or day
    con.execute(
        sql("attribution/channels"),
        {
            "ids": [c.id for c in spec.channels],
            "names": [c.name for c in spec.channels],
            "paid": [c.paid for c in spec.channels],
        },
    )
    con.execute(
        sql("attribution/models"), {"name": [m.name for m in models], "type": [m.model_type for m in models]}
    )
    query, params = _conversions_sql(spec)
    con.execute(query, bind(query, {**params, "a": day, "b": last}))
    # A conversion at the day's first second looks back its whole window from there: from `day` - longest.
    begin = dt.datetime.combine(day, dt.time())
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    longest = max((m.lookback_days for m in models if m.lookback_days), default=1)
    infinite = any(m.lookback_days is None for m in models)
    learning = learning_days(models)
    paths_start = begin + dt.timedelta(days=1 - learning)
    query, params = _touches_sql(spec, models)
    con.execute(
        query,
        bind(
            query,
            {
                **params,
                "day": last,
                "end": end,
                "start": begin - dt.timedelta(days=longest),
                "infinite": infinite,
                "paths": learning > 0,
                "paths_start": paths_start,
                "paths_day": paths_start.date(),
            },
        ),
    )
    # the candidates are ranked as they are joined (a table of them cost a third of the ranking's time)
    candidates = sql("attribution/candidates")
    if last != day:
        candidates = sql("attribution/candidates_of_days", fragments={"candidates": candidates})
    query, params = _ranked_sql(models, candidates)
    con.execute(query, bind(query, {**params, "infinite": infinite, "longest": longest}))
    query, params = _pairs_sql(models)
    con.execute(query, bind(query, params))


def learning_days(models: Sequence[Model]) -> int:
    """The longest lookback of the data-driven models (0: none): a day's non-converting paths read the
    touches of that many days ending with it."""
    return max((m.lookback_days or 0 for m in models if is_data_driven(m)), default=0)
