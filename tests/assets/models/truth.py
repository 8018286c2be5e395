"""Each demo customer's true probability of a model's label, from the world's own rules
(pipeline/demo/world.py): what a calibrated score should equal, free of the labels' sampling noise.

The population is drawn again with the world's seed (``draw_population`` is the world's first draw),
so the hidden session rates are known as well as the truth file's propensity and churn day. Given
them (and the actual churn day: the days are independent given a customer's traits), a label window's
events are independent across days and e-mail sends, so the probabilities are products:

- purchase (any point-of-sale order, the demo's ``completedOrder``): on each active day an order
  with probability min(0.95, propensity × (1 + expected session lift)), the session lift's
  expectation being the organic sessions' (rate × Σ channel share × lift × affinity) plus the e-mail
  clicks' (a subscriber's click chance on a campaign day × the Email lift × affinity);
- no activity (the churn label: no order, web session or e-mail open): on each active day no organic
  session (e^-rate) and, without a session, no order (1 − propensity); and no open of any campaign
  landing on an active day of the window (an open lands 0–3 days after its send, the world's delays).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np

from pipeline.demo.population import CHANNELS, DAY, EMAIL, RATES, TASTES, draw_population

OPEN_DELAY_DRAWS = 200_000


def population(folder: Path):
    """The world's population, drawn again from its truth/world.json (seed, size, days, start)."""
    world = json.loads((folder / "truth" / "world.json").read_text())
    seed, n, days = world["seed"], world["customers"], world["days"]
    start = dt.date.fromisoformat(world["start"])
    start_ts = int(dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC).timestamp())
    taste = np.random.default_rng([seed, 5]).integers(0, TASTES, n)
    return draw_population(np.random.default_rng(seed), n, days, start_ts, taste), start


def open_day_shares() -> np.ndarray:
    """P(an open lands 0, 1, 2, 3 days after its send day): sent at 09:00 + up to 30 minutes, after an
    exponential delay (mean 3 h, or 30 h for the late share), capped at 3 days (seeded draws)."""
    rng = np.random.default_rng(0)
    late = rng.random(OPEN_DELAY_DRAWS) < RATES["open_late_share"]
    mean = np.take(RATES["open_delay_mean_hours"], late.astype(int)) * 3600
    delay = np.minimum(rng.exponential(mean), 3 * DAY)
    offset = ((9 * 3600 + rng.integers(0, 1800, OPEN_DELAY_DRAWS) + delay) // DAY).astype(int)
    return np.bincount(offset, minlength=4)[:4] / OPEN_DELAY_DRAWS


def _active(pop, days: np.ndarray) -> np.ndarray:
    """(customers, days): signed up and not churned on each day index."""
    return (pop.signup[:, None] <= days[None, :]) & (pop.churn[:, None] > days[None, :])


def _campaign_days(start: dt.date, first: int, last: int) -> np.ndarray:
    days = np.arange(first, last)
    weekday = (start.weekday() + days) % 7
    return days[np.isin(weekday, RATES["campaign_weekdays"])]


def _purchase_chances(pop, start: dt.date, first: int, last: int):
    """(active, the daily order probability, sends, subscribers sent to, open and click chances) of
    each customer and day index in [first, last)."""
    days = np.arange(first, last)
    active = _active(pop, days)
    affinity = pop.affinity
    lift = np.array([c.lift for c in CHANNELS]) * affinity
    share = affinity / affinity.sum(1, keepdims=True)
    organic = pop.session_rate * (share * lift).sum(1)
    email = affinity[:, EMAIL]
    opens = RATES["open_base"] + RATES["open_per_email_affinity"] * email
    clicks = opens * (RATES["click_base"] + RATES["click_per_email_affinity"] * email)
    sends = _campaign_days(start, first - 3, last)  # earlier sends' late opens land in the window
    # expected e-mail click sessions per customer and window day (the opens' delays)
    landing = np.zeros((len(sends), len(days)))
    for k, s in enumerate(open_day_shares()):
        landing += (sends[:, None] + k == days[None, :]) * s
    sent = pop.subscribed[:, None] & (pop.signup[:, None] <= sends[None, :])
    click_sessions = (sent * clicks[:, None]) @ landing
    boost = organic[:, None] + click_sessions * lift[:, EMAIL][:, None]
    p_day = np.minimum(pop.propensity[:, None] * (1 + boost), RATES["pos_max_probability"])
    return active, p_day, sends, sent, opens


def label_probabilities(folder: Path, label_start: dt.date, label_end: dt.date) -> dict[str, np.ndarray]:
    """{"customer_id", "purchase", "no_activity", "purchase_days"}: each customer's true probability of
    a point-of-sale order, and of no order, web session or e-mail open, in [label_start, label_end),
    and the expected number of days with an order there."""
    pop, start = population(folder)
    first, last = (label_start - start).days, (label_end - start).days
    active, p_day, sends, sent, opens = _purchase_chances(pop, start, first, last)
    purchase = 1 - np.prod(np.where(active, 1 - p_day, 1.0), axis=1)
    quiet_day = np.exp(-pop.session_rate)[:, None] * (1 - pop.propensity)[:, None]
    quiet = np.prod(np.where(active, quiet_day, 1.0), axis=1)
    # an open of send s lands on an active day of the window with probability Σ_k share_k [s+k active]
    lands = np.zeros((len(pop.ids), len(sends)))
    for k, s in enumerate(open_day_shares()):
        on = sends + k
        inside = (on >= first) & (on < last)
        lands[:, inside] += s * active[:, on[inside] - first]
    quiet = quiet * np.prod(1 - sent * opens[:, None] * lands, axis=1)
    return {
        "customer_id": pop.ids,
        "purchase": purchase,
        "no_activity": quiet,
        "purchase_days": np.where(active, p_day, 0.0).sum(axis=1),
    }
