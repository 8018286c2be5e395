"""The demo world's people: who the customers are, observably (their customer file cells) and in
truth (propensity, churn, channel affinities), and the constants the world is drawn from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, TypedDict

import numpy as np

DAY = 86_400
EMPTY = np.array(None, dtype=object)  # an empty cell, as np.where's other choice
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


class Rates(TypedDict):
    """The world's rates and effects (a dict, written as it is into truth/world.json)."""

    initial_customer_share: float
    daily_update_share: float
    propensity_intercept: float
    propensity_age_curvature: float
    propensity_newsletter_effect: float
    propensity_noise_sd: float
    churn_intercept: float
    churn_propensity_effect: float
    churn_hazard_per_risk: float
    sessions_per_day: float
    session_propensity_elasticity: float
    web_conversion_scale: float
    pos_max_probability: float
    campaign_weekdays: list[int]
    open_base: float
    open_per_email_affinity: float
    click_base: float
    click_per_email_affinity: float
    open_delay_mean_hours: list[int]
    open_late_share: float
    bad_row_rate: float


RATES: Rates = {
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


@dataclass
class Population:
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
    taste: np.ndarray  # favourite product category (point-of-sale purchases)

    def active(self, d: int) -> np.ndarray:
        """Customers signed up and not churned on day index d."""
        return (self.signup <= d) & (self.churn > d)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def draw_population(
    rng: np.random.Generator, n: int, days: int, start_ts: int, taste: np.ndarray
) -> Population:
    """Draw the customers: observable attributes first, then the truth that depends on them
    (``taste``, drawn from its own stream, is passed in).

    `propensity` is the base daily point-of-sale purchase probability; sessions lift it day by day.
    """
    num = np.arange(1, n + 1)
    ids = "C" + zero_pad(num, max(6, len(str(n))))
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
        "goal_newsletter": np.where(newsletter >= 0, newsletter.astype(object), EMPTY),
        "goal_newsletter_timestamp": _newsletter_timestamps(rng, newsletter, signup, start_ts),
    }
    return Population(
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
        taste,
    )


def _blank(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """values (object array) with a random `share` of the cells emptied (None)."""
    return np.where(rng.random(len(values)) < share, EMPTY, values)


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
    return np.where(kind < 0.4, EMPTY, cells)


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
    zero = np.where(rng.random(n) < 0.5, 0, EMPTY)
    return np.where(newsletter == 1, ts.astype(object), np.where(newsletter == 0, zero, EMPTY))


def _affinity(rng: np.random.Generator, age: np.ndarray, subscribed: np.ndarray) -> np.ndarray:
    """Channel affinities in (0, 1): channel base + age and subscription effects + noise."""
    logit = np.array([c.base_logit for c in CHANNELS]) + rng.normal(0, 0.8, (len(age), len(CHANNELS)))
    young = (40 - age) / 15
    logit[:, list(SOCIAL)] += 0.6 * young[:, None]
    logit[:, EMAIL] += 2.0 * subscribed - 0.3 * young
    return _sigmoid(logit)


def zero_pad(values: np.ndarray, width: int) -> np.ndarray:
    """Integers in [0, 10**width) as zero-padded strings (np.strings.zfill fails on empty arrays)."""
    return np.strings.slice((values + 10**width).astype(str), 1, None)
