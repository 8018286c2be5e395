"""The one daily partitioning shared by the whole graph, and helpers over its time windows."""

from __future__ import annotations

import datetime as dt

import dagster as dg


def daily_partitions(start_date: dt.date) -> dg.DailyPartitionsDefinition:
    """Daily partitions in UTC from the config's start_date up to yesterday (the last full day)."""
    return dg.DailyPartitionsDefinition(start_date=start_date.isoformat(), timezone="UTC")


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from ``first`` through ``last`` (none when last < first)."""
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def backwards(first: dt.date, last: dt.date) -> str | None:
    """Why first..last holds no day (it ends before it starts), or None."""
    return f"the range ends ({last}) before it starts ({first})" if last < first else None


def days_in(window: dg.TimeWindow) -> list[dt.date]:
    """The days of a partition time window (one for a single partition, many for a backfill range)."""
    return days_between(window.start.date(), window.end.date() - dt.timedelta(days=1))
