"""How many days of a backfill are attributed at once: as many as fit DuckDB's memory_limit, up to 7.

A range's work is held by DuckDB until its transaction writes it: its candidates ranked (every
conversion × its customer's touches, sql/attribution/ranked.sql), the credits per touch and per
channel, and for Markov / Shapley everyone's touches of the learning window listed per customer
(paths.sql). Beyond the connection's memory_limit DuckDB spills those tables to disk, and every model
then reads them back from there (at SF10 with a 5 GB limit, 7-day ranges spilled up to 21 GB each).
So each day's size is counted first, in one statement (sql/attribution/day_sizes.sql: its
conversions' candidate touches, counted on one hash bucket of customers and scaled up; its touch
events), and consecutive days are grouped while the range's estimated working set stays under a
share of the limit: one day at least, RANGE_DAYS at most. A day that would be a range alone (the
next does not fit beside it) is paired with the next when the pair's estimate stays within PAIR_OVER
budgets and the range reads a learning window (see PAIR_OVER). A range's credits are the same
whatever the cut (each day gets what it gets alone), so the cut changes only time and memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb

from pipeline.attribution.config import AttributionSpec
from pipeline.attribution.models import Model
from pipeline.attribution.touches import conversion_sources, learning_days
from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import size_bytes

# The most days attributed at once: longer ranges were no faster and held more (README, Attribution).
RANGE_DAYS = 7
# What DuckDB holds at a range's peak (its temp tables, and the per-channel credits' aggregates as
# they are computed) per candidate (conversion × touch) of its days and per touch event of its
# learning window: fitted to duckdb_memory()'s peak of the last 3 and 7 days of SF1 with the
# example config's 16 models and no memory pressure (1.22 and 2.55 GB; bench/NOTES.md, attmem).
# Re-measured after the narrower ranking: 1.14 and 2.37 GB, about 870 bytes a candidate; kept, as the
# longer ranges a smaller figure gives were no faster (13 ranges of 7 days at SF1 against these 17,
# the same CPU time; bench/NOTES.md, att2).
BYTES_PER_CANDIDATE = 1000
BYTES_PER_TOUCH = 250
# The share of memory_limit a range's estimated peak may take: the peak counts the warehouse's cached
# blocks too (DuckDB evicts those first), and the counts are sampled (a few % off).
MEMORY_SHARE = 0.8
# A day that would be a range alone still takes the next when the pair's estimate is within PAIR_OVER
# budgets and the range reads a learning window (Markov / Shapley): the window (everyone's touches of
# its days) is then read once for two days, worth the spill. Measured at SF10 with a 5 GB limit:
# where one day's estimate is 1.3 budgets and two days' 2.2, forced 2-day ranges took 0.88-0.92 x
# the time of 1-day ones, spilling up to 1.5 GB; where one day fits (0.9 budgets, two days 1.3),
# 0.83-0.89 x; 3-day ranges there took what 2-day ones did (bench/NOTES.md). A day there is 15-17 s,
# 4-6 s of it the window.
PAIR_OVER = 2.5
# day_sizes.sql counts the candidates of one customer in SAMPLE (by hash): a sixteenth of the join.
SAMPLE = 16


def memory_budget(con: duckdb.DuckDBPyConnection) -> int:
    """The bytes a range's working set may take on this connection: MEMORY_SHARE of its memory_limit."""
    ((limit,),) = con.execute(sql("core/memory_limit")).fetchall()  # the one setting
    return int(size_bytes(limit) * MEMORY_SHARE)


def day_sizes(
    con: duckdb.DuckDBPyConnection, spec: AttributionSpec, models: Sequence[Model], days: Sequence[dt.date]
) -> tuple[list[int], list[int]]:
    """Each of ``days``' candidates (conversions × touches) and the touch events of each partition from
    the learning window's first (``learning_days`` - 1 before the first day) to the last day."""
    longest = max((m.lookback_days for m in models if m.lookback_days), default=1)
    infinite = any(m.lookback_days is None for m in models)
    since = days[0] - dt.timedelta(days=max(learning_days(models) - 1, 0))
    union, params = conversion_sources(spec)
    query = sql("attribution/day_sizes", fragments={"conversions": union})
    values = {
        **params,
        "a": days[0],
        "b": days[-1],
        "since": since,
        "touch_types": sorted({t.type for t in spec.touchpoints}),
        "longest": longest,
        "infinite": infinite,
        "sample": SAMPLE,
    }
    rows = con.execute(query, bind(query, values)).fetchall()  # one row per day, not per data row
    touches = [t for _, _, t in rows]
    candidates = [c for day, c, _ in rows if day >= days[0]]
    return candidates, touches


def group_days(
    days: Sequence[dt.date], candidates: Sequence[int], touches: Sequence[int], learning: int, budget: int
) -> list[tuple[dt.date, dt.date]]:
    """Consecutive ``days`` cut greedily into ranges whose working set (BYTES_PER_CANDIDATE a candidate
    of its days, BYTES_PER_TOUCH a touch event of its learning window: ``touches`` per partition from
    ``learning`` - 1 days before the first day) stays within ``budget`` bytes; one day at least,
    RANGE_DAYS at most; a day that would be alone with the next when a learning window is read and the
    pair is within PAIR_OVER budgets. Each range's first and last day."""
    held = max(learning - 1, 0)  # the partitions before a range's first day its paths read

    def cost(i: int, j: int) -> int:  # days i to j
        window = touches[i : j + held + 1] if learning else []
        return BYTES_PER_CANDIDATE * sum(candidates[i : j + 1]) + BYTES_PER_TOUCH * sum(window)

    ranges = []
    i = 0
    while i < len(days):  # a loop over days, not rows
        j = i
        while j + 1 < len(days) and j + 1 - i < RANGE_DAYS and cost(i, j + 1) <= budget:
            j += 1
        alone = j == i and learning
        if alone and i + 1 < len(days) and RANGE_DAYS > 1 and cost(i, i + 1) <= PAIR_OVER * budget:
            j += 1  # one read of the learning window for two days is worth the spill
        ranges.append((days[i], days[j]))
        i = j + 1
    return ranges


def sized_ranges(
    con: duckdb.DuckDBPyConnection,
    spec: AttributionSpec,
    models: Sequence[Model],
    days: Sequence[dt.date],
    budget: int | None = None,
) -> list[tuple[dt.date, dt.date]]:
    """Consecutive ``days`` as ranges sized to the connection's memory (:func:`group_days`; ``budget``:
    the bytes a range may hold, default :func:`memory_budget`)."""
    if not days:
        return []
    candidates, touches = day_sizes(con, spec, models, days)
    budget = memory_budget(con) if budget is None else budget
    return group_days(days, candidates, touches, learning_days(models), budget)


def per_connection(ranges: Sequence[tuple[dt.date, dt.date]]) -> list[list[tuple[dt.date, dt.date]]]:
    """Consecutive ``ranges`` grouped to be attributed on one warehouse connection each, up to RANGE_DAYS
    days a connection: DuckDB gives back what a connection's work held only when it closes, and the
    close checkpoints the file (2-4 s at SF1, whatever the days written), so short ranges share one."""
    groups: list[list[tuple[dt.date, dt.date]]] = []
    held = RANGE_DAYS
    for first, last in ranges:  # a loop over ranges of days, not rows
        days = (last - first).days + 1
        if held + days > RANGE_DAYS:
            groups.append([])
            held = 0
        groups[-1].append((first, last))
        held += days
    return groups
