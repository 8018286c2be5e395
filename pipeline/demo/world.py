"""A seeded synthetic "demo world": landing files for nightjar.example.yaml plus the truth behind them.

`generate_world(out_dir)` writes, for every day of the world, the files the example config reads
(``customers``, ``trans_pos``, ``web_sessions``, ``campaign_events``) into ``out_dir/files/`` and the
hidden ground truth into ``out_dir/truth/``:

- ``customers.csv``: per customer the true daily purchase propensity, churn risk, churn day,
  sign-up day and the affinity to each marketing channel;
- ``world.json``: the global effects used in generation (channel lifts, base rates, seed, ...);
- ``bad_rows.csv``: every deliberately broken row (file, 1-based row number, kind, field);
- ``decision_rates.csv``: per customer the hidden traits and the true response rate of every arm of
  the demo's experiments (effects.py; the closed loop of experiments.py draws responses from it).

Behaviour model (all per customer and day, vectorised over customers): a customer is active from
sign-up until the day before ``churned_on``. Active customers start Poisson-many web sessions whose
channel is drawn in proportion to their channel affinities; e-mail clicks add an Email session. A
point-of-sale purchase happens with probability
``min(0.95, propensity * (1 + sum over the day's sessions of channel_lift * affinity))``.

The customers and the constants they are drawn from are in ``population.py``, the writing of the
files (and the breaking of rows) in ``landing.py``; this module runs the days.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.demo.effects import draw_traits, write_decision_truth
from pipeline.demo.landing import CAMPAIGN, POS, WEB, BadRow, Landing, hms, money, seq_ids
from pipeline.demo.population import (
    CAMPAIGN_THEMES,
    CHANNELS,
    CUSTOMER_COLUMNS,
    DAY,
    EMAIL,
    EVENTS,
    HOUR_WEIGHTS,
    INTEREST_EFFECT,
    INTERESTS,
    PRICE_CENTS,
    PRODUCT_WEIGHTS,
    PRODUCTS,
    RATES,
    SEGMENT_EFFECT,
    SEGMENTS,
    STORES,
    TASTE_BOOST,
    TASTE_CDF,
    TASTES,
    Population,
    draw_population,
)


@dataclass(frozen=True)
class WorldSummary:
    """What generate_world wrote: first and last day, customers, file count, rows per dataset, bad rows."""

    start: dt.date
    end: dt.date
    customers: int
    files: int
    rows: dict[str, int]
    bad_rows: int


def generate_world(
    out_dir: Path,
    customers: int = 2000,
    days: int = 14,
    start: dt.date | None = None,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> WorldSummary:
    """Write a deterministic demo world (landing files and truth) for `days` days from `start`.

    `start` defaults to today (UTC) minus `days`, so the last day is yesterday. The same arguments
    always give byte-identical files.
    """
    if customers < 1 or days < 1:
        raise ValueError("a demo world needs at least one customer and one day")
    out_dir = Path(out_dir)
    start = start or dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)
    rng = np.random.default_rng(seed)
    start_ts = int(dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC).timestamp())
    taste = np.random.default_rng([seed, 5]).integers(0, TASTES, customers)
    pop = draw_population(rng, customers, days, start_ts, taste)
    traits = draw_traits(pop, seed)  # its own stream: the files are as without it
    landing = Landing(out_dir / "files", rng)
    pending = _no_events()
    campaigns: list[str] = []
    for d in range(days):
        day, day_ts = start + dt.timedelta(days=d), start_ts + d * DAY
        _write_customers(rng, landing, pop, d, day)
        events, pending = _campaign_events(rng, pop, d, day, day_ts, pending, campaigns)
        sessions, boost = _sessions(rng, pop, d, day, day_ts, events, campaigns)
        purchases = _purchases(rng, pop, d, day, boost)
        landing.transactions(POS, day, purchases)
        landing.transactions(WEB, day, sessions)
        landing.transactions(CAMPAIGN, day, _event_columns(pop, events, campaigns))
        if progress:
            progress(
                f"{day:%Y-%m-%d}: {len(purchases['order_id'])} purchases, "
                f"{len(sessions['session_id'])} sessions, {len(events['ts'])} campaign events"
            )
    summary = WorldSummary(
        start,
        start + dt.timedelta(days=days - 1),
        customers,
        landing.files,
        dict(landing.rows),
        len(landing.bad),
    )
    _write_truth(out_dir / "truth", pop, summary, seed, landing.bad)
    write_decision_truth(out_dir / "truth" / "decision_rates.csv", pop, traits)
    return summary


# --- daily behaviour --------------------------------------------------------------------------


def _no_events() -> dict[str, np.ndarray]:
    """An empty campaign event table (customer, campaign index, event index, unix time)."""
    return {k: np.zeros(0, dtype=np.int64) for k in ("cust", "campaign", "event", "ts")}


def _campaign_events(
    rng: np.random.Generator,
    pop: Population,
    d: int,
    day: dt.date,
    day_ts: int,
    pending: dict,
    campaigns: list[str],
) -> tuple[dict, dict]:
    """Day d's campaign events (today's send, and opens/clicks due today) and the events still pending."""
    events = pending
    if day.weekday() in RATES["campaign_weekdays"]:
        campaigns.append(f"{CAMPAIGN_THEMES[len(campaigns) % len(CAMPAIGN_THEMES)]}_{day:%Y%m%d}")
        to = np.flatnonzero((pop.signup <= d) & pop.subscribed)
        new = _send(rng, pop.affinity[to, EMAIL], day_ts + 9 * 3600)
        new["cust"], new["campaign"] = to[new["cust"]], np.full(len(new["ts"]), len(campaigns) - 1)
        events = {k: np.concatenate([pending[k], new[k]]) for k in pending}
    due = events["ts"] < day_ts + DAY
    today = {k: v[due] for k, v in events.items()}
    keep = (today["event"] == 0) | (pop.churn[today["cust"]] > d)
    order = np.argsort(today["ts"][keep], kind="stable")
    return {k: v[keep][order] for k, v in today.items()}, {k: v[~due] for k, v in events.items()}


def _send(rng: np.random.Generator, email_affinity: np.ndarray, send_ts: int) -> dict[str, np.ndarray]:
    """Sends to n recipients with their opens (subset of sends) and clicks (subset of opens)."""
    n, r = len(email_affinity), RATES
    sent = send_ts + rng.integers(0, 1800, n)
    mean_delay = np.take(r["open_delay_mean_hours"], rng.random(n) < r["open_late_share"]) * 3600
    delay = np.minimum(rng.exponential(mean_delay), 3 * DAY).astype(np.int64)
    opened = rng.random(n) < r["open_base"] + r["open_per_email_affinity"] * email_affinity
    clicked = opened & (rng.random(n) < r["click_base"] + r["click_per_email_affinity"] * email_affinity)
    click = sent + delay + 1 + rng.exponential(180, n).astype(np.int64)
    who = np.arange(n)
    return {
        "cust": np.concatenate([who, who[opened], who[clicked]]),
        "event": np.repeat([0, 1, 2], [n, opened.sum(), clicked.sum()]),
        "ts": np.concatenate([sent, (sent + delay)[opened], click[clicked]]),
    }


def _sessions(
    rng: np.random.Generator,
    pop: Population,
    d: int,
    day: dt.date,
    day_ts: int,
    events: dict,
    campaigns: list[str],
) -> tuple[dict, np.ndarray]:
    """Day d's web sessions (organic ones plus one per e-mail click) and each customer's purchase boost."""
    n = len(pop.ids)
    cust = np.repeat(np.arange(n), rng.poisson(pop.session_rate * pop.active(d)))
    cdf = (pop.affinity[cust] / pop.affinity[cust].sum(1, keepdims=True)).cumsum(1)
    channel = np.minimum((rng.random(len(cust))[:, None] > cdf).sum(1), len(CHANNELS) - 1)
    sec = rng.choice(24, len(cust), p=HOUR_WEIGHTS) * 3600 + rng.integers(0, 3600, len(cust))
    campaign = np.array([c.utm_campaign for c in CHANNELS], dtype=object)[channel]
    clicks = events["event"] == 2
    cust = np.concatenate([cust, events["cust"][clicks]])
    channel = np.concatenate([channel, np.full(clicks.sum(), EMAIL)])
    sec = np.concatenate(
        [sec, np.minimum(events["ts"][clicks] - day_ts + rng.integers(1, 60, clicks.sum()), DAY - 1)]
    )
    campaign = np.concatenate([campaign, np.array(campaigns, dtype=object)[events["campaign"][clicks]]])
    order = np.argsort(sec, kind="stable")
    cust, channel, sec, campaign = cust[order], channel[order], sec[order], campaign[order]
    lift = np.array([c.lift for c in CHANNELS])[channel] * pop.affinity[cust, channel]
    p_buy = np.minimum(RATES["web_conversion_scale"] * pop.propensity[cust] * (1 + lift), 0.9)
    purchased = rng.random(len(cust)) < p_buy
    _, _, cents = _basket(rng, len(cust))
    columns = {
        "session_id": seq_ids(f"S{day:%Y%m%d}-", len(cust)),
        "customer_id": pop.ids[cust].astype(object),
        "started_at": f"{day:%Y-%m-%d} " + hms(sec),
        "page_views": 1 + rng.geometric(0.3, len(cust)),
        "utm_source": np.take([c.utm_source for c in CHANNELS], channel),
        "utm_medium": np.take([c.utm_medium for c in CHANNELS], channel),
        "utm_campaign": campaign,
        "channel": np.take([c.name for c in CHANNELS], channel),
        "purchased": purchased,
        "revenue": np.where(purchased, cents / 100, np.nan),
    }
    return columns, np.bincount(cust, weights=lift, minlength=n)


def _purchases(
    rng: np.random.Generator, pop: Population, d: int, day: dt.date, boost: np.ndarray
) -> dict[str, np.ndarray]:
    """Day d's point-of-sale orders: one per buying customer, mostly in the home store."""
    p = np.minimum(pop.propensity * (1 + boost), RATES["pos_max_probability"]) * pop.active(d)
    buyers = np.flatnonzero(rng.random(len(p)) < p)
    n = len(buyers)
    store = np.where(rng.random(n) < 0.8, pop.home_store[buyers], rng.integers(0, len(STORES), n))
    product, quantity, cents = _basket(rng, n, pop.taste[buyers])
    return {
        "order_id": seq_ids(f"P{day:%Y%m%d}-", n),
        "customer_id": pop.ids[buyers],
        "purchased_at": np.full(n, f"{day:%m/%d/%Y}"),
        "store": np.take(STORES, store),
        "product": np.take(PRODUCTS, product),
        "quantity": quantity.astype(str),
        "amount": money(cents),
    }


def _basket(
    rng: np.random.Generator, n: int, taste: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n single-product baskets: product index, quantity (1-5) and value in cents.

    With ``taste`` (a category per basket) the product follows that taste's weights; the draw uses
    as many random numbers as without it.
    """
    if taste is None:
        product = rng.choice(len(PRODUCTS), n, p=PRODUCT_WEIGHTS)
    else:
        u = rng.random(n)
        product = np.minimum((u[:, None] >= TASTE_CDF[taste]).sum(1), len(PRODUCTS) - 1)
    quantity = np.minimum(rng.geometric(0.6, n), 5)
    return product, quantity, PRICE_CENTS[product] * quantity


def _event_columns(pop: Population, events: dict, campaigns: list[str]) -> dict[str, np.ndarray]:
    """The campaign_events file columns of an event table."""
    return {
        "customer_id": pop.ids[events["cust"]],
        "campaign": np.array(campaigns, dtype=object)[events["campaign"]],
        "event": np.take(EVENTS, events["event"]),
        "occurred_at": events["ts"].astype(str),
    }


# --- output -----------------------------------------------------------------------------------


def _write_customers(
    rng: np.random.Generator, landing: Landing, pop: Population, d: int, day: dt.date
) -> None:
    """Day 0: the JSON file of all initial customers. Later: sign-ups of the day and changed customers."""
    if d == 0:
        landing.customers(day, _customer_rows(pop, np.flatnonzero(pop.signup == 0)), first=True)
        return
    existing = np.flatnonzero(pop.signup < d)
    n_changed = min(len(existing), max(1, round(RATES["daily_update_share"] * len(existing))))
    changed = np.sort(rng.choice(existing, n_changed, replace=False))
    known_age = pd.notna(pop.cells["num_age"][changed])
    ages = (rng.random(len(changed)) < 0.5) & known_age & (pop.age[changed] < 80)
    older, moved = changed[ages], changed[~ages]
    pop.age[older] += 1
    pop.cells["num_age"][older] = pop.age[older].astype(object)
    pop.segment[moved] = (pop.segment[moved] + rng.integers(1, len(SEGMENTS), len(moved))) % len(SEGMENTS)
    pop.cells["txt_segment"][moved] = np.take(SEGMENTS, pop.segment[moved]).astype(object)
    rows = _customer_rows(pop, np.sort(np.concatenate([np.flatnonzero(pop.signup == d), changed])))
    landing.customers(day, rows, duplicate=d == 1)


def _customer_rows(pop: Population, idx: np.ndarray) -> list[list]:
    """Customer rows in CUSTOMER_COLUMNS order (None = empty cell)."""
    return np.column_stack([pop.cells[c][idx] for c in CUSTOMER_COLUMNS]).tolist() if len(idx) else []


def _write_truth(folder: Path, pop: Population, summary: WorldSummary, seed: int, bad: list[BadRow]) -> None:
    """truth/customers.csv, truth/world.json and truth/bad_rows.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    days = (summary.end - summary.start).days + 1
    dates = (np.datetime64(summary.start) + np.arange(days)).astype(str).tolist() + [""]
    truth = pd.DataFrame(
        {
            "customuid": pop.ids,
            "propensity": pop.propensity.round(6),
            "churn_risk": pop.churn_risk.round(6),
            "churned_on": np.take(dates, np.minimum(pop.churn, days)),
            "signed_up_on": np.take(dates, pop.signup),
            "product_taste": pop.taste,
        }
    )
    for j, channel in enumerate(CHANNELS):
        truth["affinity_" + channel.name.lower().replace(" ", "_")] = pop.affinity[:, j].round(6)
    truth.to_csv(folder / "customers.csv", index=False, lineterminator="\n")
    world = {
        "seed": seed,
        "start": summary.start.isoformat(),
        "end": summary.end.isoformat(),
        "days": days,
        "customers": summary.customers,
        "files": summary.files,
        "rows": summary.rows,
        "bad_rows": summary.bad_rows,
        "channel_lift": {c.name: c.lift for c in CHANNELS},
        "channel_base_affinity_logit": {c.name: c.base_logit for c in CHANNELS},
        "segment_effect": dict(zip(SEGMENTS, SEGMENT_EFFECT, strict=True)),
        "interest_effect": dict(zip(INTERESTS, INTEREST_EFFECT, strict=True)),
        "product_taste": {
            "categories": TASTES,
            "boost": TASTE_BOOST,
            "rule": "point-of-sale products of category (index in PRODUCTS mod categories) == "
            "product_taste weigh boost times more",
        },
        "rates": RATES,
        "pos_purchase_probability": "min(pos_max_probability, propensity * (1 + sum over the day's sessions "
        "of channel_lift[channel] * affinity[channel])), 0 before signed_up_on "
        "and from churned_on",
    }
    (folder / "world.json").write_text(json.dumps(world, indent=2) + "\n", encoding="utf-8")
    pd.DataFrame(bad, columns=["file", "row_number", "kind", "field"]).to_csv(
        folder / "bad_rows.csv", index=False, lineterminator="\n"
    )
