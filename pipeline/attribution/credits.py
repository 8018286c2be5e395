"""Attribution: split each conversion's value over the marketing touches before it.

The models:

- rule-based (``first``, ``last``, ``spread``, ``position``, ``time_decay``): computed for every model
  at once in DuckDB SQL (sql/attribution/pairs.sql, rule_credits.sql), one pass over the touches in
  each model's lookback window with window functions;
- data-driven (``markov``, ``shapley``): learnt from the day's aggregated paths (sql/attribution/paths.sql)
  with NumPy here (:func:`markov_removal_effects`, :func:`shapley_values`), then applied per
  conversion in SQL (data_driven_credits.sql).

A conversion that no touch of a model explains is credited whole to ``(unattributed)``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import duckdb
import numpy as np
import pyarrow as pa

from pipeline.attribution.config import (
    ATTRIBUTION_FIELDS,
    BUILTINS,
    TOUCH_FIELDS,
    UNATTRIBUTED,
    AttributionConfig,
    AttributionModelSpec,
    AttributionSpec,
)
from pipeline.core.catalog import CUSTOMER_ID, register_customer_table
from pipeline.core.rules import Condition, Params, compile_all, condition
from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import transaction

CREDITS = "attribution_credits"
SUMMARY = "attribution_summary"
RULE_BASED = ("first", "last", "spread", "position", "time_decay")
DATA_DRIVEN = ("markov", "shapley")
SEP = "\x1f"  # joins the channels of a channel set (sql/attribution/data_driven_credits.sql: chr(31))


@dataclass(frozen=True)
class Model:
    """One attribution model, built-in or custom, with its defaults filled in."""

    name: str
    model_type: str
    lookback_days: int | None  # None: infinite (built-ins only)
    first_weight: float = 1.0
    last_weight: float = 1.0
    first_share: float = 0.4
    last_share: float = 0.4
    half_life_days: float = 7.0
    max_exact_channels: int = 10
    samples: int = 2000
    seed: int = 0
    channels_mode: str | None = None  # include | exclude
    channels: tuple[str, ...] = ()  # channel names
    paid_only: bool = False  # built-in "(PPC Only)": include the channels flagged paid
    criteria: tuple[Condition, ...] = field(default_factory=tuple)
    builtin: bool = False

    def describe(self) -> str:
        """The model's definition in one line (what `nightjar attribution models` prints)."""
        parts = [
            self.model_type,
            "infinite lookback" if self.lookback_days is None else f"lookback {self.lookback_days} d",
        ]
        if self.model_type == "spread":
            parts.append(f"firstWeight {self.first_weight:g}, lastWeight {self.last_weight:g}")
        if self.model_type == "position":
            parts.append(f"firstShare {self.first_share:g}, lastShare {self.last_share:g}")
        if self.model_type == "time_decay":
            parts.append(f"halfLifeDays {self.half_life_days:g}")
        if self.model_type == "shapley":
            parts.append(
                f"exact up to {self.max_exact_channels} channels, else {self.samples} samples, seed {self.seed}"
            )
        if self.paid_only:
            parts.append("paid (PPC) channels only")
        elif self.channels_mode:
            parts.append(f"{self.channels_mode} {', '.join(self.channels)}")
        if self.criteria:
            parts.append("match " + " and ".join(f"{c.field} {c.op} {c.value!r}" for c in self.criteria))
        return "; ".join(parts)


def builtin_models(spec: AttributionSpec) -> list[Model]:
    paid = tuple(c.name for c in spec.channels if c.paid)
    return [
        Model(
            name,
            kind,
            lookback,
            float(fw),
            float(lw),
            channels_mode="include" if ppc else None,
            channels=paid if ppc else (),
            paid_only=ppc,
            builtin=True,
        )
        for name, kind, lookback, fw, lw, ppc in BUILTINS
    ]


def custom_model(m: AttributionModelSpec, spec: AttributionSpec) -> Model:
    def given(value, default):
        return default if value is None else value

    return Model(
        m.name,
        m.modelType,
        m.lookbackDays,
        first_weight=given(m.firstWeight, 1.0),
        last_weight=given(m.lastWeight, 1.0),
        first_share=given(m.firstShare, 0.4),
        last_share=given(m.lastShare, 0.4),
        half_life_days=given(m.halfLifeDays, 7.0),
        max_exact_channels=given(m.maxExactChannels, 10),
        samples=given(m.samples, 2000),
        seed=given(m.seed, 0),
        channels_mode=m.channelsMode,
        channels=tuple(spec.channel_names(m.channels)),
        criteria=tuple(condition(c.field, c.op, c.value, TOUCH_FIELDS) for c in m.matchCriteria),
    )


def all_models(spec: AttributionSpec) -> list[Model]:
    """The built-in models, then the config's custom ones."""
    return builtin_models(spec) + [custom_model(m, spec) for m in spec.models]


# ---- SQL: the day's conversions, touches and per-model touch filters ---------------------------

_EVENT_COLUMNS = {
    "channel": "e.channel",
    "campaign": "e.utm_campaign",
    "source": "e.utm_source",
    "medium": "e.utm_medium",
    "term": "e.utm_term",
    "content": "e.utm_content",
    "type": "e.type",
    "context": "e.context",
    "value": "e.value",
    "time": "e.occurred_at",
}
_TOUCH_COLUMNS = {**{k: f"t.{k}" for k in TOUCH_FIELDS}, "time": "t.touched_at"}
assert set(_EVENT_COLUMNS) == set(ATTRIBUTION_FIELDS)


def _conversions_sql(spec: AttributionSpec) -> tuple[str, dict]:
    params = Params("c")
    selects = []
    for c in spec.conversions:
        conds = [condition(m.field, m.op, m.value, ATTRIBUTION_FIELDS) for m in c.matchCriteria]
        name, typ, value = params.add(c.name), params.add(c.type), params.add(c.value)
        selects.append(
            f"SELECT {name}::VARCHAR AS conversion, e.event_id AS conversion_id, e.customer_id, "
            f"e.occurred_at AS converted_at, coalesce({value}::DOUBLE, e.value::DOUBLE, 0.0) AS value "
            f"FROM events e WHERE e._partition_date = $d AND e.customer_id IS NOT NULL AND e.type = {typ} "
            f"AND {compile_all(conds, params, _EVENT_COLUMNS)}"
        )
    body = (
        " UNION ALL ".join(selects)
        if selects
        else (
            "SELECT NULL::VARCHAR AS conversion, NULL::VARCHAR AS conversion_id, NULL::VARCHAR AS customer_id, "
            "NULL::TIMESTAMP AS converted_at, NULL::DOUBLE AS value WHERE false"
        )
    )
    return f"CREATE OR REPLACE TEMP TABLE _att_conversions AS {body}", params.values


def _touches_sql(spec: AttributionSpec, paths: bool) -> tuple[str, dict]:
    """The touches a day's attribution reads: the day's converters' touches from $start (or since ever when
    $infinite), and, only when ``paths`` (a data-driven model learns from the day's non-converting paths),
    everyone else's touches from $paths_start. Rule-based models never read another customer's touches."""
    params = Params("t")
    who = [
        "e.customer_id IN (SELECT customer_id FROM _att_conversions) AND ($infinite OR e.occurred_at >= $start)"
    ]
    if paths:
        who.append(
            "e.customer_id NOT IN (SELECT customer_id FROM _att_conversions) AND e.occurred_at >= $paths_start "
            "AND e._partition_date >= $paths_day"
        )
    selects = []
    for i, tp in enumerate(spec.touchpoints):
        conds = [condition(m.field, m.op, m.value, ATTRIBUTION_FIELDS) for m in tp.matchCriteria]
        fixed, typ = params.add(tp.channel), params.add(tp.type)
        match = compile_all(conds, params, _EVENT_COLUMNS)
        selects += [
            f"SELECT {i} AS spec, e.event_id AS touch_id, e.customer_id, e.occurred_at AS touched_at, "
            f"coalesce({fixed}::VARCHAR, e.channel) AS channel, e.utm_campaign AS campaign, e.utm_source AS source, "
            f"e.utm_medium AS medium, e.utm_term AS term, e.utm_content AS content, e.type, e.context, e.value "
            f"FROM events e WHERE e.type = {typ} AND e.customer_id IS NOT NULL AND e.occurred_at < $end "
            f"AND e._partition_date <= $day AND {w} AND {match}"
            for w in who
        ]
    if not selects:
        selects = [
            "SELECT 0 AS spec, NULL::VARCHAR AS touch_id, NULL::VARCHAR AS customer_id, NULL::TIMESTAMP AS "
            "touched_at, NULL::VARCHAR AS channel, NULL::VARCHAR AS campaign, NULL::VARCHAR AS source, "
            "NULL::VARCHAR AS medium, NULL::VARCHAR AS term, NULL::VARCHAR AS content, NULL::VARCHAR AS type, "
            "NULL::VARCHAR AS context, NULL::DECIMAL(18,4) AS value WHERE false"
        ]
    # A touch needs a channel; an event matching two touchpoint specs (of one type) is one touch (the first spec's).
    types = [tp.type for tp in spec.touchpoints]
    once = (
        "QUALIFY row_number() OVER (PARTITION BY u.touch_id ORDER BY u.spec) = 1"
        if len(set(types)) < len(types)
        else ""
    )
    query = f"""CREATE OR REPLACE TEMP TABLE _att_touches AS
        SELECT u.touch_id, u.customer_id, u.touched_at, u.channel, ch.channel_id, coalesce(ch.paid, false) AS paid,
               u.campaign, u.source, u.medium, u.term, u.content, u.type, u.context, u.value
        FROM ({" UNION ALL ".join(selects)}) u LEFT JOIN _att_channels ch ON ch.name = u.channel
        WHERE u.channel IS NOT NULL
        {once}"""
    return query, params.values


def _model_filter(m: Model, params: Params) -> str:
    """SQL over a touch ``t``: the model's match criteria and channel filter (TRUE when it has none)."""
    where = [compile_all(m.criteria, params, _TOUCH_COLUMNS)]
    if m.channels_mode == "include":
        where.append(f"list_contains({params.add(list(m.channels))}::VARCHAR[], t.channel)")
    elif m.channels_mode == "exclude":
        where.append(f"NOT list_contains({params.add(list(m.channels))}::VARCHAR[], t.channel)")
    return " AND ".join(where)


# A rule-based model's weight for the touch at ``pos`` of ``n`` (in time order), and the sum of the weights
# of the conversion's touches (so share = weight / total). The totals of first / last / spread / position
# follow from n alone; time decay sums its weights in time order (the same bits every run).
_WEIGHT = {
    "first": "CASE WHEN pos = 1 THEN 1.0 ELSE 0.0 END",
    "last": "CASE WHEN pos = n THEN 1.0 ELSE 0.0 END",
    "spread": "CASE WHEN n = 1 THEN 1.0 WHEN pos = 1 THEN {fw} WHEN pos = n THEN {lw} ELSE 1.0 END",
    "position": "CASE WHEN n = 1 THEN 1.0 WHEN n = 2 THEN CASE WHEN pos = 1 THEN {fs} ELSE {ls} END "
    "WHEN pos = 1 THEN {fs} WHEN pos = n THEN {ls} ELSE (1.0 - {fs} - {ls}) / (n - 2) END",
    "time_decay": "pow(2.0, -(epoch(last_touched_at) - epoch(touched_at)) / 86400.0 / {hl})",
}
_TOTAL = {
    "first": "1.0",
    "last": "1.0",
    "spread": "CASE WHEN n = 1 THEN 1.0 ELSE {fw} + {lw} + (n - 2) END",
    "position": "CASE WHEN n = 1 THEN 1.0 WHEN n = 2 THEN {fs} + {ls} "
    "ELSE {fs} + {ls} + (n - 2) * ((1.0 - {fs} - {ls}) / (n - 2)) END",
    "time_decay": "sum(weight) OVER (PARTITION BY conversion, conversion_id ORDER BY pos "
    "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)",
}


def _touch_sets(models: Sequence[Model]) -> dict[tuple, int]:
    """Models that read the same touches (lookback, channel filter, match criteria) share one touch set."""
    sets: dict[tuple, int] = {}
    for m in models:
        sets.setdefault(_set_key(m), len(sets))
    return sets


def _set_key(m: Model) -> tuple:
    return (m.lookback_days, m.channels_mode, m.channels, m.criteria)


def _ranked_sql(models: Sequence[Model]) -> tuple[str, dict]:
    """sql/attribution/ranked.sql: for each touch set k, whether a candidate is in it (p{k}), its position
    there (pos{k}), the set's size (n{k}) and last touch (last{k}) for the conversion; one window pass."""
    params = Params("k")
    passes, running = [], []
    for m, k in ((m, k) for k, m in _set_models(models).items()):
        lookback = (
            "TRUE"
            if m.lookback_days is None
            else f"t.touched_at >= t.converted_at - to_days({params.add(m.lookback_days)}::INTEGER)"
        )
        passes.append(f"({_model_filter(m, params)} AND {lookback}) AS p{k}")
        running += [
            f"sum(p{k}::INTEGER) OVER upto AS pos{k}",
            f"sum(p{k}::INTEGER) OVER whole AS n{k}",
            f"max(CASE WHEN p{k} THEN touched_at END) OVER whole AS last{k}",
        ]
    query = (
        sql("attribution/ranked")
        .replace("{passes}", ", ".join(passes))
        .replace("{running}", ", ".join(running))
    )
    return query, params.values


def _set_models(models: Sequence[Model]) -> dict[int, Model]:
    """The first model of each touch set, by set number."""
    firsts: dict[int, Model] = {}
    sets = _touch_sets(models)
    for m in models:
        firsts.setdefault(sets[_set_key(m)], m)
    return firsts


def _in_set(k: int) -> str:
    """A model's touches from _att_ranked: those of its set k, with their position, count and last touch."""
    return (
        f"SELECT conversion, conversion_id, customer_id, converted_at, conversion_value AS value, touch_id, "
        f"channel, channel_id, touched_at, pos{k} AS pos, n{k} AS n, last{k} AS last_touched_at "
        f"FROM _att_ranked WHERE p{k}"
    )


def _rule_credits_sql(models: Sequence[Model], target: str) -> tuple[str, dict]:
    """sql/attribution/rule_credits.sql: each rule-based model's weight and total over its touch set."""
    params = Params("w")
    sets = _touch_sets(models)
    selects = []
    for m in models:
        if m.model_type not in RULE_BASED:
            continue
        names = {
            "fw": params.add(m.first_weight),
            "lw": params.add(m.last_weight),
            "fs": params.add(m.first_share),
            "ls": params.add(m.last_share),
            "hl": params.add(m.half_life_days),
        }
        # a parameter's type is only known from its value: keep the weights DOUBLE
        names = {k: f"{v}::DOUBLE" for k, v in names.items()}
        weight, total = _WEIGHT[m.model_type].format(**names), _TOTAL[m.model_type].format(**names)
        selects.append(
            f"SELECT *, {params.add(m.name)}::VARCHAR AS model, {params.add(m.model_type)}::VARCHAR AS model_type, "
            f"weight / ({total}) AS share FROM (SELECT *, {weight} AS weight FROM ({_in_set(sets[_set_key(m)])}))"
        )
    if not selects:
        return "", {}
    query = sql("attribution/rule_credits").replace("{model_credits}", " UNION ALL ".join(selects))
    return query.replace("{target}", target), params.values


def _pairs_sql(models: Sequence[Model]) -> tuple[str, dict]:
    """sql/attribution/pairs.sql: the data-driven models' (conversion, touch) pairs, from their touch sets."""
    params = Params("d")
    sets = _touch_sets(models)
    selects = [
        f"SELECT *, {params.add(m.name)}::VARCHAR AS model, {params.add(m.model_type)}::VARCHAR AS model_type "
        f"FROM ({_in_set(sets[_set_key(m)])})"
        for m in models
        if m.model_type in DATA_DRIVEN
    ]
    if not selects:
        selects = [
            f"SELECT *, NULL::VARCHAR AS model, NULL::VARCHAR AS model_type FROM ({_in_set(0)}) WHERE false"
        ]
    return sql("attribution/pairs").replace("{model_pairs}", " UNION ALL ".join(selects)), params.values


def _prepare(
    con: duckdb.DuckDBPyConnection, spec: AttributionSpec, models: Sequence[Model], day: dt.date
) -> None:
    """The temp tables _att_channels, _att_models, _att_conversions, _att_touches, _att_candidates, _att_ranked,
    _att_pairs (the data-driven models' pairs)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _att_channels AS
           SELECT unnest($ids::INTEGER[]) AS channel_id, unnest($names::VARCHAR[]) AS name,
                  unnest($paid::BOOLEAN[]) AS paid""",
        {
            "ids": [c.id for c in spec.channels],
            "names": [c.name for c in spec.channels],
            "paid": [c.paid for c in spec.channels],
        },
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _att_models AS
           SELECT unnest($name::VARCHAR[]) AS model, unnest($type::VARCHAR[]) AS model_type,
                  unnest($lookback::INTEGER[]) AS lookback_days, unnest($fw::DOUBLE[]) AS first_weight,
                  unnest($lw::DOUBLE[]) AS last_weight, unnest($fs::DOUBLE[]) AS first_share,
                  unnest($ls::DOUBLE[]) AS last_share, unnest($hl::DOUBLE[]) AS half_life_days""",
        {
            "name": [m.name for m in models],
            "type": [m.model_type for m in models],
            "lookback": [m.lookback_days for m in models],
            "fw": [m.first_weight for m in models],
            "lw": [m.last_weight for m in models],
            "fs": [m.first_share for m in models],
            "ls": [m.last_share for m in models],
            "hl": [m.half_life_days for m in models],
        },
    )
    query, params = _conversions_sql(spec)
    con.execute(query, bind(query, {**params, "d": day}))
    # A conversion at the day's first second looks back its whole window from there: from `day` - longest.
    begin = dt.datetime.combine(day, dt.time())
    end = begin + dt.timedelta(days=1)
    longest = max((m.lookback_days for m in models if m.lookback_days), default=1)
    learning = [m.lookback_days for m in models if m.model_type in DATA_DRIVEN]
    paths_start = end - dt.timedelta(days=max(learning, default=0))
    query, params = _touches_sql(spec, paths=bool(learning))
    con.execute(
        query,
        bind(
            query,
            {
                **params,
                "day": day,
                "end": end,
                "start": begin - dt.timedelta(days=longest),
                "infinite": any(m.lookback_days is None for m in models),
                "paths_start": paths_start,
                "paths_day": paths_start.date(),
            },
        ),
    )
    con.execute(sql("attribution/candidates"))
    for build in (_ranked_sql, _pairs_sql):
        query, params = build(models)
        con.execute(query, bind(query, params))


# ---- the data-driven models (NumPy on aggregated paths) -----------------------------------------


def _collapse(path: Sequence[str]) -> list[str]:
    """The path without consecutive repeats (A > A > B is A > B for the Markov chain)."""
    return [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]


def markov_removal_effects(
    paths: Sequence[Sequence[str]], conversions: Sequence[float], nulls: Sequence[float]
) -> dict[str, float]:
    """First-order Markov removal effects, exactly: P(conversion) from the absorbing chain by a linear solve.

    States: start, each channel, conversion, null. Transition counts come from the paths (consecutive
    repeats collapsed), each path weighted by its conversions + nulls and ending in conversion or null.
    The removal effect of channel c is 1 - P'(conversion) / P(conversion) where in P' every transition
    into c goes to null instead.
    """
    channels = sorted({c for p in paths for c in p})
    if not channels:
        return {}
    index = {c: i + 1 for i, c in enumerate(channels)}  # 0 = start; k+1 = conversion; k+2 = null
    k = len(channels)
    counts = np.zeros((k + 3, k + 3))
    for path, conv, null in zip(paths, conversions, nulls, strict=True):
        states = [0] + [index[c] for c in _collapse(path)]
        for a, b in zip(states, states[1:], strict=False):
            counts[a, b] += conv + null
        counts[states[-1], k + 1] += conv
        counts[states[-1], k + 2] += null
    totals = counts.sum(axis=1, keepdims=True)
    transition = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)

    def p_conversion(removed: int | None) -> float:
        q = transition[: k + 1, : k + 1].copy()  # transient states: start and the channels
        r = transition[: k + 1, k + 1].copy()  # into conversion
        if removed is not None:
            q[:, removed] = 0.0  # going into the removed channel ends the path (null)
            q[removed, :] = 0.0
            r[removed] = 0.0
        # x = Q x + r  (x[s] = P(reaching conversion from s)); solve (I - Q) x = r.
        return float(np.linalg.solve(np.eye(k + 1) - q, r)[0])

    base = p_conversion(None)
    if base <= 0:
        return {c: 0.0 for c in channels}
    return {c: 1.0 - p_conversion(index[c]) / base for c in channels}


def shapley_values(
    players: Sequence[str],
    value: dict[frozenset[str], float],
    max_exact: int = 10,
    samples: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    """Shapley values of ``players`` in the game v(T) = ``value`` of T (0 when absent).

    Exact (every subset, weights |T|!(n-|T|-1)!/n!) up to ``max_exact`` players; beyond it, the mean
    marginal contribution over ``samples`` random orders drawn with ``seed`` (deterministic).
    """
    n = len(players)
    if n <= max_exact:
        phi = dict.fromkeys(players, 0.0)
        for size in range(n):
            w = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for coalition in combinations(players, size):
                base = value.get(frozenset(coalition), 0.0)
                for p in players:
                    if p not in coalition:
                        phi[p] += w * (value.get(frozenset((*coalition, p)), 0.0) - base)
        return phi
    rng = np.random.default_rng(seed)
    phi = np.zeros(n)
    for _ in range(samples):
        order = rng.permutation(n)
        members: list[str] = []
        before = 0.0
        for i in order:
            members.append(players[i])
            after = value.get(frozenset(members), 0.0)
            phi[i] += after - before
            before = after
    return {p: float(phi[i] / samples) for i, p in enumerate(players)}


def channel_weights(
    model: Model, paths: Sequence[Sequence[str]], conversions: Sequence[int], nulls: Sequence[int]
) -> dict[frozenset[str], dict[str, float]]:
    """For each channel set of a converting path, each channel's weight there (Markov: its removal
    effect; Shapley: its Shapley value in the set). A conversion's touch gets weight / sum over its touches."""
    sets = sorted({frozenset(p) for p, c in zip(paths, conversions, strict=True) if c > 0}, key=sorted)
    if model.model_type == "markov":
        effects = markov_removal_effects(paths, conversions, nulls)
        return {s: {c: effects[c] for c in s} for s in sets}
    conv: dict[frozenset[str], float] = {}
    seen: dict[frozenset[str], float] = {}
    for p, c, n in zip(paths, conversions, nulls, strict=True):
        conv[frozenset(p)] = conv.get(frozenset(p), 0) + c
        seen[frozenset(p)] = seen.get(frozenset(p), 0) + c + n
    rate = {s: conv[s] / seen[s] for s in conv if conv[s] > 0}  # v(T): the conversion rate of channel set T
    return {
        s: shapley_values(sorted(s), rate, model.max_exact_channels, model.samples, model.seed) for s in sets
    }


def _learn(con: duckdb.DuckDBPyConnection, models: Iterable[Model], day: dt.date) -> None:
    """The temp table _att_weights: each data-driven model's channel weights per channel set, from the day's paths."""
    rows: dict[str, list] = {"model": [], "channel_set": [], "channel": [], "weight": []}
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    learnt: dict[
        tuple, list
    ] = {}  # models reading the same touches (e.g. Markov and Shapley) share their paths
    for m in models:
        if _set_key(m) not in learnt:
            params = Params("f")
            query = sql("attribution/paths").replace("{model_filter}", _model_filter(m, params))
            learnt[_set_key(m)] = con.execute(
                query,
                bind(
                    query,
                    {
                        **params.values,
                        "model": m.name,
                        "end": end,
                        "start": end - dt.timedelta(days=m.lookback_days),
                    },
                ),
            ).fetchall()
        found = learnt[_set_key(m)]
        if not any(c for _, c, _ in found):
            continue
        paths, conv, nulls = zip(*found, strict=True)
        for s, weights in channel_weights(m, paths, conv, nulls).items():
            for c, weight in weights.items():
                rows["model"].append(m.name)
                rows["channel_set"].append(SEP.join(sorted(s)))
                rows["channel"].append(c)
                rows["weight"].append(weight)
    weights = pa.table(
        rows,
        schema=pa.schema(
            [
                ("model", pa.string()),
                ("channel_set", pa.string()),
                ("channel", pa.string()),
                ("weight", pa.float64()),
            ]
        ),
    )
    con.register("_att_weights_arrow", weights)
    con.execute("CREATE OR REPLACE TEMP TABLE _att_weights AS SELECT * FROM _att_weights_arrow")
    con.unregister("_att_weights_arrow")


def _write_credits(
    con: duckdb.DuckDBPyConnection, models: Sequence[Model], day: dt.date, target: str
) -> None:
    """Insert every model's credits for the conversions of ``day`` into ``target`` (prepared and learnt)."""
    query, params = _rule_credits_sql(models, target)
    if query:
        con.execute(query, bind(query, {**params, "d": day}))
    con.execute(sql("attribution/data_driven_credits").replace("{target}", target), {"d": day})
    con.execute(
        sql("attribution/unattributed").replace("{target}", target), {"unattributed": UNATTRIBUTED, "d": day}
    )


def compute_credits(
    con: duckdb.DuckDBPyConnection, spec: AttributionSpec, models: Sequence[Model], day: dt.date
) -> None:
    """Fill the temp table _att_credits with every model's credits for the conversions of ``day``."""
    _prepare(con, spec, models, day)
    _learn(con, [m for m in models if m.model_type in DATA_DRIVEN], day)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _att_credits AS SELECT * FROM {CREDITS} WHERE false")
    _write_credits(con, models, day, "_att_credits")


def build_attribution(
    con: duckdb.DuckDBPyConnection, config: AttributionConfig, day: dt.date
) -> dict[str, int]:
    """Replace the ``day`` partition of attribution_credits and attribution_summary (one transaction; the
    credits are written straight into the table, the work tables before it are temporary)."""
    con.execute(sql("customers/events/create_events"))
    con.execute(sql("attribution/create_tables"))
    register_customer_table(con, CREDITS, "customer_id", CUSTOMER_ID)
    models = all_models(config.attribution)
    _prepare(con, config.attribution, models, day)
    _learn(con, [m for m in models if m.model_type in DATA_DRIVEN], day)
    with transaction(con):
        con.execute(f"DELETE FROM {CREDITS} WHERE _partition_date = $d", {"d": day})
        _write_credits(con, models, day, CREDITS)
        con.execute(f"DELETE FROM {SUMMARY} WHERE date = $d", {"d": day})
        con.execute(sql("attribution/summary"), {"d": day})
    conversions, credits = con.execute(
        f"SELECT count(DISTINCT (conversion, conversion_id)), count(*) FROM {CREDITS} WHERE _partition_date = $d",
        {"d": day},
    ).fetchall()[0]
    for t in (
        "_att_credits",
        "_att_pairs",
        "_att_ranked",
        "_att_candidates",
        "_att_touches",
        "_att_conversions",
        "_att_models",
        "_att_channels",
        "_att_weights",
    ):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return {"conversions": conversions, "credits": credits}
