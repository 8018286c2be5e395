"""A seeded synthetic "demo world": landing files for nightjar.example.yaml plus the truth behind them.

`generate_world(out_dir)` writes, for every day of the world, the files the example config reads
(``customers``, ``trans_pos``, ``web_sessions``, ``campaign_events``) into ``out_dir/files/`` and the
hidden ground truth into ``out_dir/truth/``:

- ``customers.csv``: per customer the true daily purchase propensity, churn risk, churn day,
  sign-up day and the affinity to each marketing channel;
- ``world.json``: the global effects used in generation (channel lifts, base rates, seed, ...);
- ``bad_rows.csv``: every deliberately broken row (file, 1-based row number, kind, field).

Behaviour model (all per customer and day, vectorised over customers): a customer is active from
sign-up until the day before ``churned_on``. Active customers start Poisson-many web sessions whose
channel is drawn in proportion to their channel affinities; e-mail clicks add an Email session. A
point-of-sale purchase happens with probability
``min(0.95, propensity * (1 + sum over the day's sessions of channel_lift * affinity))``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

DAY = 86_400
CUSTOMER_COLUMNS = (
    "customuid",
    "email",
    "idfa",
    "txt_city",
    "txt_segment",
    "num_age",
    "attr_interests",
    "goal_newsletter",
    "goal_newsletter_timestamp",
)


class Channel(NamedTuple):
    """A marketing channel: its UTM tags, base affinity (logit) and true purchase lift per session."""

    name: str
    utm_source: str
    utm_medium: str
    utm_campaign: str | None
    base_logit: float
    lift: float


CHANNELS = (
    Channel("Organic Search", "google", "organic", None, 0.0, 0.4),
    Channel("Paid Search", "google", "cpc", "search_always_on", -0.5, 0.8),
    Channel("Email", "newsletter", "email", "newsletter", -1.0, 1.2),
    Channel("Referral", "partner.com", "referral", None, -1.5, 0.6),
    Channel("Direct", "(direct)", "(none)", None, 0.0, 0.5),
    Channel("Organic Social", "facebook", "social", None, -1.0, 0.2),
    Channel("Paid Social", "facebook", "paid_social", "social_prospecting", -1.2, 0.5),
    Channel("Display", "display network", "display", "retargeting", -1.8, 0.1),
)
EMAIL = 2
SOCIAL = (5, 6)

CITIES = (
    "Berlin",
    "Hamburg",
    "Munich",
    "Cologne",
    "Frankfurt",
    "Stuttgart",
    "Düsseldorf",
    "Leipzig",
    "Dortmund",
    "Essen",
    "Bremen",
    "Dresden",
)
CITY_WEIGHTS = np.array([18, 10, 12, 9, 8, 7, 6, 6, 6, 6, 6, 6]) / 100
STORES = tuple(f"ST{i + 1:02d}" for i in range(len(CITIES)))  # one store per city
SEGMENTS = ("bronze", "silver", "gold")
SEGMENT_WEIGHTS = (0.6, 0.3, 0.1)
SEGMENT_EFFECT = (0.0, 0.35, 0.7)
INTERESTS = (
    "cooking",
    "writing",
    "travel",
    "fashion",
    "sports",
    "gaming",
    "music",
    "gardening",
    "tech",
    "books",
)
INTEREST_EFFECT = (0.2, 0.0, 0.1, 0.4, 0.1, -0.2, 0.0, 0.1, 0.3, 0.0)
FIRST_NAMES = (
    "anna",
    "ben",
    "clara",
    "david",
    "emma",
    "felix",
    "greta",
    "hannah",
    "jonas",
    "lea",
    "lukas",
    "mia",
    "noah",
    "olivia",
    "paul",
    "sophie",
    "tom",
    "lina",
    "max",
    "julia",
)
LAST_NAMES = (
    "smith",
    "mueller",
    "schmidt",
    "fischer",
    "weber",
    "meyer",
    "wagner",
    "becker",
    "schulz",
    "hoffmann",
    "koch",
    "richter",
    "klein",
    "wolf",
    "neumann",
    "braun",
)
DOMAINS = ("example.com", "example.org", "mail.example.net")
PRODUCTS = tuple(f"SKU{1001 + i}" for i in range(30))
PRICE_CENTS = (np.geomspace(2, 150, len(PRODUCTS)).round() * 100 - 1).astype(np.int64)
PRODUCT_WEIGHTS = 1 / np.sqrt(PRICE_CENTS) / (1 / np.sqrt(PRICE_CENTS)).sum()
# Product taste (point-of-sale only): each customer favours one of TASTES categories (product index
# modulo TASTES); its products weigh TASTE_BOOST times more. Drawn from its own seeded stream, so the
# rest of the world is the same as without it. A recommender can learn it from purchase sequences.
TASTES = 5
TASTE_BOOST = 10.0
TASTE_WEIGHTS = PRODUCT_WEIGHTS * np.where(
    np.arange(len(PRODUCTS))[None, :] % TASTES == np.arange(TASTES)[:, None], TASTE_BOOST, 1.0
)
TASTE_CDF = (TASTE_WEIGHTS / TASTE_WEIGHTS.sum(1, keepdims=True)).cumsum(1)
HOUR_WEIGHTS = np.array([1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 6, 7, 6, 6, 6, 6, 7, 9, 10, 10, 8, 5, 2])
HOUR_WEIGHTS = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
CAMPAIGN_THEMES = ("weekly_picks", "new_arrivals", "flash_sale")
EVENTS = ("sent", "opened", "clicked")

RATES = {
    "initial_customer_share": 0.8,  # customers in the first (JSON) customer file
    "daily_update_share": 0.005,  # existing customers with a changed segment or age per day
    "propensity_intercept": -2.9,  # logit of the daily purchase propensity
    "propensity_age_curvature": -0.4,  # times ((age - 40) / 15) ** 2
    "propensity_newsletter_effect": 0.2,
    "propensity_noise_sd": 0.5,
    "churn_intercept": -1.6,  # logit of churn risk ...
    "churn_propensity_effect": -0.8,  # ... times the centred propensity logit
    "churn_hazard_per_risk": 0.02,  # daily churn hazard = churn_risk * this
    "sessions_per_day": 0.3,  # mean organic sessions per active customer and day
    "session_propensity_elasticity": 0.6,  # per unit of propensity logit
    "web_conversion_scale": 1.5,  # P(session purchase) = scale * propensity * (1 + lift * affinity)
    "pos_max_probability": 0.95,
    "campaign_weekdays": [0, 2, 4],  # Monday, Wednesday, Friday at 09:00 UTC
    "open_base": 0.05,
    "open_per_email_affinity": 0.4,
    "click_base": 0.05,
    "click_per_email_affinity": 0.25,
    "open_delay_mean_hours": [3, 30],  # most opens within hours, a late share within days
    "open_late_share": 0.3,
    "bad_row_rate": 0.005,
}


class _Transaction(NamedTuple):
    """A transaction file: config name, file name, extension and how each kind of bad row looks."""

    name: str
    file_name: str
    ext: str
    bad: dict[str, tuple[str, tuple]]  # kind -> (field, possible bad values)


POS = _Transaction(
    "pos",
    "trans_pos",
    "csv",
    {
        "bad_date": ("purchased_at", ("13/45/2026", "yesterday")),
        "text_in_number": ("amount", ("ten",)),
        "missing_customer_id": ("customer_id", ("",)),
        "wrong_column_count": ("columns", ("x",)),
    },
)
WEB = _Transaction(
    "web_sessions",
    "web_sessions",
    "jsonl",
    {
        "bad_date": ("started_at", ("not a time",)),
        "text_in_number": ("page_views", ("many",)),
        "missing_customer_id": ("customer_id", (None,)),
    },
)
CAMPAIGN = _Transaction(
    "campaign_events",
    "campaign_events",
    "csv",
    {
        "bad_date": ("occurred_at", ("abc",)),
        "missing_customer_id": ("customer_id", ("",)),
        "wrong_column_count": ("columns", ("x",)),
    },
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


@dataclass
class _Population:
    """Per-customer state: observable cells (None = empty) and the hidden truth, indexed by customer."""

    ids: np.ndarray
    cells: dict[str, np.ndarray]
    age: np.ndarray
    segment: np.ndarray
    home_store: np.ndarray
    subscribed: np.ndarray
    signup: np.ndarray  # day index of sign-up
    churn: np.ndarray  # first inactive day index (>= days: never within the world)
    propensity: np.ndarray
    churn_risk: np.ndarray
    affinity: np.ndarray  # (customers, channels)
    session_rate: np.ndarray
    taste: np.ndarray | None = None  # favourite product category (point-of-sale purchases)

    def active(self, d: int) -> np.ndarray:
        """Customers signed up and not churned on day index d."""
        return (self.signup <= d) & (self.churn > d)


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
    pop = _population(rng, customers, days, start_ts)
    pop.taste = np.random.default_rng([seed, 5]).integers(0, TASTES, customers)
    landing = _Landing(out_dir / "files", rng)
    pending, campaigns = _no_events(), []
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
    return summary


# --- population -------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _population(rng: np.random.Generator, n: int, days: int, start_ts: int) -> _Population:
    """Draw the customers: observable attributes first, then the truth that depends on them.

    `propensity` is the base daily point-of-sale purchase probability; sessions lift it day by day.
    """
    num = np.arange(1, n + 1)
    ids = "C" + _zero_pad(num, max(6, len(str(n))))
    age = rng.integers(18, 80, n)
    segment = rng.choice(len(SEGMENTS), n, p=SEGMENT_WEIGHTS)
    city = rng.choice(len(CITIES), n, p=CITY_WEIGHTS)
    interests, interest_cells = _interests(rng, n)
    newsletter = rng.choice([1, 0, -1], n, p=[0.45, 0.4, 0.15])
    late = (rng.random(n) >= RATES["initial_customer_share"]) & (days > 1)
    signup = np.where(late, rng.integers(1, max(days, 2), n), 0)
    r = RATES
    logit = (
        r["propensity_intercept"]
        + np.take(SEGMENT_EFFECT, segment)
        + r["propensity_age_curvature"] * ((age - 40) / 15) ** 2
        + interests @ np.array(INTEREST_EFFECT)
        + r["propensity_newsletter_effect"] * (newsletter == 1)
        + rng.normal(0, r["propensity_noise_sd"], n)
    )
    centred = logit - logit.mean()
    churn_risk = _sigmoid(
        r["churn_intercept"]
        + r["churn_propensity_effect"] * centred
        + 0.4 * (segment == 0)
        + rng.normal(0, 0.6, n)
    )
    churn = signup + rng.geometric(churn_risk * r["churn_hazard_per_risk"])
    activity = np.exp(r["session_propensity_elasticity"] * centred + rng.normal(0, 0.3, n))
    cells = {
        "customuid": ids.astype(object),
        "email": _emails(rng, num),
        "idfa": _idfas(rng, n),
        "txt_city": _blank(rng, np.take(CITIES, city).astype(object), 0.03),
        "txt_segment": np.take(SEGMENTS, segment).astype(object),
        "num_age": _blank(rng, age.astype(object), 0.03),
        "attr_interests": interest_cells,
        "goal_newsletter": np.where(newsletter >= 0, newsletter.astype(object), None),
        "goal_newsletter_timestamp": _newsletter_timestamps(rng, newsletter, signup, start_ts),
    }
    return _Population(
        ids,
        cells,
        age,
        segment,
        city,
        newsletter == 1,
        signup,
        churn,
        _sigmoid(logit),
        churn_risk,
        _affinity(rng, age, newsletter == 1),
        r["sessions_per_day"] * activity / activity.mean(),
    )


def _blank(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """values (object array) with a random `share` of the cells emptied (None)."""
    return np.where(rng.random(len(values)) < share, None, values)


def _emails(rng: np.random.Generator, num: np.ndarray) -> np.ndarray:
    """Unique plain e-mails like anna.smith123@example.com; some title-cased or padded with spaces."""
    first = np.take(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), len(num)))
    last = np.take(LAST_NAMES, rng.integers(0, len(LAST_NAMES), len(num)))
    domain = np.take(DOMAINS, rng.integers(0, len(DOMAINS), len(num)))
    email = first + "." + last + num.astype(str) + "@" + domain
    style = rng.random(len(num))
    email = np.where(style < 0.04, np.strings.title(email), email)
    return np.where((style >= 0.04) & (style < 0.07), " " + email + " ", email).astype(object)


def _uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random version-4-looking UUID strings."""
    chars = np.array(list("0123456789abcdef"))[rng.integers(0, 16, (n, 36))]
    chars[:, [8, 13, 18, 23]] = "-"
    chars[:, 14] = "4"
    return np.ascontiguousarray(chars).view("<U36").ravel()


def _idfas(rng: np.random.Generator, n: int) -> np.ndarray:
    """IDFA cells: empty for ~40%, two comma-separated ids for ~5%, one id otherwise."""
    kind = rng.random(n)
    one, two = _uuids(rng, n), _uuids(rng, n)
    cells = np.where(kind > 0.95, one + "," + two, one).astype(object)
    return np.where(kind < 0.4, None, cells)


def _interests(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """0-3 distinct interests per customer: the membership matrix and the "a, b" cells (None if none)."""
    count = rng.choice(4, n, p=[0.3, 0.35, 0.22, 0.13])
    chosen = rng.random((n, len(INTERESTS))).argsort(1).argsort(1) < count[:, None]
    cell_of_mask = np.array(
        [
            ", ".join(name for j, name in enumerate(INTERESTS) if mask >> j & 1) or None
            for mask in range(1 << len(INTERESTS))
        ],
        dtype=object,
    )
    return chosen.astype(float), cell_of_mask[chosen @ (1 << np.arange(len(INTERESTS)))]


def _newsletter_timestamps(
    rng: np.random.Generator, newsletter: np.ndarray, signup: np.ndarray, start_ts: int
) -> np.ndarray:
    """Subscription time for goal 1 (before start, or on the sign-up day); 0 or empty for goal 0."""
    n = len(newsletter)
    ts = np.where(
        signup == 0,
        start_ts - rng.integers(1, 730 * DAY, n),
        start_ts + signup * DAY + rng.integers(0, DAY, n),
    )
    zero = np.where(rng.random(n) < 0.5, 0, None)
    return np.where(newsletter == 1, ts.astype(object), np.where(newsletter == 0, zero, None))


def _affinity(rng: np.random.Generator, age: np.ndarray, subscribed: np.ndarray) -> np.ndarray:
    """Channel affinities in (0, 1): channel base + age and subscription effects + noise."""
    logit = np.array([c.base_logit for c in CHANNELS]) + rng.normal(0, 0.8, (len(age), len(CHANNELS)))
    young = (40 - age) / 15
    logit[:, list(SOCIAL)] += 0.6 * young[:, None]
    logit[:, EMAIL] += 2.0 * subscribed - 0.3 * young
    return _sigmoid(logit)


# --- daily behaviour --------------------------------------------------------------------------


def _no_events() -> dict[str, np.ndarray]:
    """An empty campaign event table (customer, campaign index, event index, unix time)."""
    return {k: np.zeros(0, dtype=np.int64) for k in ("cust", "campaign", "event", "ts")}


def _campaign_events(
    rng: np.random.Generator,
    pop: _Population,
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
    pop: _Population,
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
        "session_id": _seq_ids(f"S{day:%Y%m%d}-", len(cust)),
        "customer_id": pop.ids[cust].astype(object),
        "started_at": f"{day:%Y-%m-%d} " + _hms(sec),
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
    rng: np.random.Generator, pop: _Population, d: int, day: dt.date, boost: np.ndarray
) -> dict[str, np.ndarray]:
    """Day d's point-of-sale orders: one per buying customer, mostly in the home store."""
    p = np.minimum(pop.propensity * (1 + boost), RATES["pos_max_probability"]) * pop.active(d)
    buyers = np.flatnonzero(rng.random(len(p)) < p)
    n = len(buyers)
    store = np.where(rng.random(n) < 0.8, pop.home_store[buyers], rng.integers(0, len(STORES), n))
    product, quantity, cents = _basket(rng, n, pop.taste[buyers])
    return {
        "order_id": _seq_ids(f"P{day:%Y%m%d}-", n),
        "customer_id": pop.ids[buyers],
        "purchased_at": np.full(n, f"{day:%m/%d/%Y}"),
        "store": np.take(STORES, store),
        "product": np.take(PRODUCTS, product),
        "quantity": quantity.astype(str),
        "amount": _money(cents),
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


def _event_columns(pop: _Population, events: dict, campaigns: list[str]) -> dict[str, np.ndarray]:
    """The campaign_events file columns of an event table."""
    return {
        "customer_id": pop.ids[events["cust"]],
        "campaign": np.array(campaigns, dtype=object)[events["campaign"]],
        "event": np.take(EVENTS, events["event"]),
        "occurred_at": events["ts"].astype(str),
    }


def _zero_pad(values: np.ndarray, width: int) -> np.ndarray:
    """Integers in [0, 10**width) as zero-padded strings (np.strings.zfill fails on empty arrays)."""
    return np.strings.slice((values + 10**width).astype(str), 1, None)


def _seq_ids(prefix: str, n: int) -> np.ndarray:
    """prefix000001, prefix000002, ..."""
    return prefix + _zero_pad(np.arange(1, n + 1), max(6, len(str(n))))


def _hms(sec: np.ndarray) -> np.ndarray:
    """Seconds of the day as hh:mm:ss."""
    return _zero_pad(sec // 3600, 2) + ":" + _zero_pad(sec // 60 % 60, 2) + ":" + _zero_pad(sec % 60, 2)


def _money(cents: np.ndarray) -> np.ndarray:
    """Cents as a decimal string with two places."""
    return (cents // 100).astype(str) + "." + _zero_pad(cents % 100, 2)


# --- output -----------------------------------------------------------------------------------


def _write_customers(
    rng: np.random.Generator, landing: _Landing, pop: _Population, d: int, day: dt.date
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


def _customer_rows(pop: _Population, idx: np.ndarray) -> list[list]:
    """Customer rows in CUSTOMER_COLUMNS order (None = empty cell)."""
    return np.column_stack([pop.cells[c][idx] for c in CUSTOMER_COLUMNS]).tolist() if len(idx) else []


class _Landing:
    """Writes the landing files, breaks ~0.5% of the transaction rows on purpose and keeps the counts."""

    def __init__(self, folder: Path, rng: np.random.Generator):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.rng = folder, rng
        self.files, self.rows, self.bad = 0, {}, []
        self._tx_rows = self._tx_bad = 0

    def _count(self, dataset: str, rows: int) -> None:
        self.files += 1
        self.rows[dataset] = self.rows.get(dataset, 0) + rows

    def customers(self, day: dt.date, rows: list[list], first: bool = False, duplicate: bool = False) -> None:
        """The first file as {"header", "data"} JSON, later ones as CSV; optionally one duplicate row."""
        name = f"customers_{day:%Y%m%d}.{'json' if first else 'csv'}"
        if duplicate and rows:
            rows.append(list(rows[self.rng.integers(len(rows))]))
            self.bad.append((name, len(rows), "duplicate_customuid", "customuid"))
        if first:
            data = {"header": list(CUSTOMER_COLUMNS), "data": rows}
            (self.folder / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        else:
            with open(self.folder / name, "w", encoding="utf-8", newline="") as f:
                f.write(", ".join(CUSTOMER_COLUMNS) + "\n")
                csv.writer(f, lineterminator="\n").writerows(rows)
        self._count("customers", len(rows))

    def transactions(self, spec: _Transaction, day: dt.date, columns: dict[str, np.ndarray]) -> None:
        """Write one transaction file with its share of deliberately bad rows."""
        n = len(next(iter(columns.values())))
        name = f"{spec.file_name}_{day:%Y%m%d}.{spec.ext}"
        bad = self._pick_bad(spec, name, n)
        for field in {spec.bad[kind][0] for _, kind in bad} - {"columns"}:
            columns[field] = columns[field].astype(object)
        for row, kind in bad:
            field, values = spec.bad[kind]
            if field != "columns":
                columns[field][row] = values[row % len(values)]
        path = self.folder / name
        if spec.ext == "jsonl":
            path.write_text(
                pd.DataFrame(columns).to_json(orient="records", lines=True) if n else "", encoding="utf-8"
            )
        else:
            rows = np.column_stack(list(columns.values())).tolist() if n else []
            for row, kind in bad:
                if kind == "wrong_column_count":
                    rows[row].append("x")
            with open(path, "w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(columns)
                writer.writerows(rows)
        self._count(spec.name, n)

    def _pick_bad(self, spec: _Transaction, name: str, n: int) -> list[tuple[int, str]]:
        """Rows (0-based) and kinds to break, keeping the running share at the bad-row rate.

        No file gets more than twice the rate (1%), so each load stays under max_reject_rate (2%).
        """
        self._tx_rows += n
        due = int(RATES["bad_row_rate"] * self._tx_rows) - self._tx_bad
        k = int(np.clip(due, 0, int(2 * RATES["bad_row_rate"] * n)))
        self._tx_bad += k
        picked = list(
            zip(
                np.sort(self.rng.choice(n, k, replace=False)).tolist(),
                self.rng.choice(list(spec.bad), k).tolist(),
                strict=True,
            )
        )
        self.bad.extend((name, row + 1, kind, spec.bad[kind][0]) for row, kind in picked)
        return picked


def _write_truth(folder: Path, pop: _Population, summary: WorldSummary, seed: int, bad: list) -> None:
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
