"""The nightly probabilities of a learned policy (``policy: propensity | uplift | thompson``).

For one experiment and presentation day D (decided on night D - 1), from the data before D (so a
re-run gives the same rows):

* **what it learns from**: the experiment's presentations of the ``LOOKBACK_DAYS`` before D whose
  conversion window closed before D and is complete, and those whose window is still open with the
  conversions landed before D (sql/experiments/policy_history.sql), weighted by
  ``policies.seen_weights`` (a conversion seen: 1; none yet: the share of the window elapsed), so a
  policy learns from the night after its first decisions. Their arm: no treatment (control or
  no_treatment drawn: nothing was sent) or the variant; none for a row a ``capacity`` cut to
  no_treatment (``history_arms``); whether they converted;
* **features**: the experiment's model's features (pipeline/models/features.py): as of the first of
  those presentations for the rows learned from (never after any of them: a conversion cannot leak
  into its own features), as of D for tonight's candidates;
* ``propensity``: one conversion model per variant (the seed decisioning product's way): the variant
  of best expected value rate x value - cost wins;
* ``uplift``: a pooled LightGBM model over every arm (an S-learner with the arm as a feature,
  policies/learner.py, fitted on every row) with a no-treatment arm learned from control: the
  variant of largest expected incremental value (rate - no-treatment rate) x value - cost wins,
  ``no_treatment`` where every one is below zero;
* ``thompson``: Beta posteriors per segment (quintiles of the model's score, or one segment without
  scores), each arm with the posterior probability that it is the best.

``value`` is the mean value of the experiment's past conversions landed before D (1 when they carry
none); when a conversion definition of the experiment says ``count: all``, of the closed windows only:
an open window's value sums every match of its window, also those after D, so that a re-run after later
days are loaded would learn another value. ``cost`` is the variant's declared cost. Every policy keeps
the ``exploration`` floor, among the eligible arms; propensity and uplift decay it once they learn
from more than ``policies.DECAY_ROWS`` presentations.
A candidate eligible for an arm with fewer than ``MIN_ROWS`` presentations to learn from (a new
experiment's every arm, a new or rarely eligible variant) draws uniformly among their eligible variants
under propensity and uplift (warming up); the other candidates are decided by what was learned. The
probabilities and each arm's expected value go to ``_policy``; sql/experiments/decide.sql draws from
them and logs the probability.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import table_exists
from pipeline.experiments import policies
from pipeline.experiments.config import CONTROL, NO_TREATMENT, ExperimentsConfig, ExperimentSpec
from pipeline.experiments.policies.learner import PooledLearner, TLearner
from pipeline.experiments.policies.thompson import thompson
from pipeline.models.config import ModelSpec
from pipeline.models.features import customer_features

LOOKBACK_DAYS = 56
MIN_ROWS = 50
SEGMENTS = 5


@dataclass
class RunFeatures:
    """The customer features a run of `results` built (``runs.run_results`` owns one, nothing survives
    the run: a late file may restate the past between runs), by model settings and cut-off. A range
    asks the same ones night after night: the training features at the first presentation learned from
    (``first_date``), often the same for many nights, and a night's features of today, the next one's
    of its first presentation. Within a run they cannot change: they read customers, customer_identities
    and events, which a run of `results` never writes. A frame no night used since the night before is
    dropped (``next_night``), so a run holds the frames of two nights at most. The frames are shared:
    callers must not change them (policy_matrix reindexes them into new ones)."""

    frames: dict[tuple[str, dt.date], pd.DataFrame] = field(default_factory=dict)
    used: set[tuple[str, dt.date]] = field(default_factory=set)

    def frame(self, con: duckdb.DuckDBPyConnection, spec: ModelSpec, cutoff: dt.date) -> pd.DataFrame:
        """customer_features(con, spec, cutoff), built once in the run."""
        key = (spec.model_dump_json(), cutoff)
        if key not in self.frames:
            self.frames[key] = customer_features(con, spec, cutoff)
        self.used.add(key)
        return self.frames[key]

    def next_night(self) -> None:
        """Drop the frames the night that ended did not use (it used them, or they were built in it)."""
        self.frames = {k: f for k, f in self.frames.items() if k in self.used}
        self.used = set()


def _frame(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, object]) -> pd.DataFrame:
    text = sql(f"experiments/{name}")
    return con.execute(text, bind(text, params)).df()


def arms_of(exp: ExperimentSpec) -> list[str]:
    """The arms a policy chooses among: uplift has the no-treatment arm first."""
    return ([NO_TREATMENT] if exp.policy == "uplift" else []) + list(exp.variants)


def history_arms(variant: np.ndarray, arms: list[str], capped: np.ndarray | None = None) -> np.ndarray:
    """Each past presentation's arm index (control counts as no_treatment); -1 when not an arm, and for
    the ``capped`` ones (a capacity cut them to no_treatment from the variant drawn): neither drawn to
    nothing nor sent the variant, and the lowest expected values of their draw, they would bias the
    no-treatment arm (uplift's) towards those customers' rates, so no arm learns from them."""
    names = np.where(variant == CONTROL, NO_TREATMENT, variant)
    index = {a: i for i, a in enumerate(arms)}
    arm = np.array([index.get(v, -1) for v in names.tolist()], dtype=np.int64)
    return arm if capped is None else np.where(np.asarray(capped, dtype=bool), -1, arm)


def masked(probs: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Probabilities renormalised over each row's eligible arms (0 elsewhere)."""
    kept = probs * eligible
    return kept / kept.sum(axis=1, keepdims=True)


def numeric(
    train: pd.DataFrame, score: pd.DataFrame, score_matrix: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Both frames as float matrices over the scoring frame's columns; txt_* categories coded alike.
    Without ``score_matrix`` the second matrix is left out (0 rows; the codes still come from both)."""
    train = train.reindex(columns=score.columns)
    levels = {c: sorted(_texts(train[c]) | _texts(score[c])) for c in score.columns if c.startswith("txt_")}
    out = []
    for frame in (train, score) if score_matrix else (train,):
        cols = {}
        for c in score.columns:
            if c in levels:
                codes = _codes(frame[c], levels[c]).astype(float)
                cols[c] = np.where(codes < 0, np.nan, codes)
            else:
                cols[c] = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
        out.append(np.column_stack(list(cols.values())) if cols else np.zeros((len(frame), 0)))
    return out[0], out[1] if score_matrix else np.zeros((0, len(score.columns)))


def _textual(values: pd.Series) -> bool:
    """A categorical column whose categories are all text (customer_features' txt_* columns)."""
    return isinstance(values.dtype, pd.CategoricalDtype) and values.cat.categories.inferred_type == "string"


def _texts(values: pd.Series) -> set[str]:
    """The distinct values of a column as text (missing left out); of a text categorical, its categories
    in use (the same set, read from the codes instead of every row)."""
    if _textual(values):
        codes = values.cat.codes.to_numpy()
        return set(values.cat.categories[np.unique(codes[codes >= 0])])
    return set(values.dropna().astype(str).unique())


def _codes(values: pd.Series, levels: list[str]) -> np.ndarray:
    """Each value's place in ``levels`` (-1: missing or not among them); a text categorical's codes
    mapped through its categories' places instead of each row looked up."""
    if _textual(values):
        where = pd.Index(levels).get_indexer(values.cat.categories)
        codes = values.cat.codes.to_numpy().astype(np.int64)
        return np.where(codes >= 0, where[codes], -1) if len(where) else np.full(len(codes), -1)
    return pd.Categorical(values.astype(object), categories=levels).codes


def counts_every_match(config: ExperimentsConfig, exp: ExperimentSpec) -> bool:
    """Whether the experiment's (primary) conversions count every match of a window (``count: all``):
    then an open window's value may hold matches after the night (policy_history.sql)."""
    return any(
        d.experiment == exp.name and d.role == "primary" and d.count == "all"
        for d in config.conversions.definitions
    )


def conversion_value(values: np.ndarray, converted: np.ndarray) -> float:
    """The mean value of the converted presentations whose value is known (not NaN: an open window
    counting every match); 1 when none is known or they carry none."""
    known = values[converted & ~np.isnan(values)]
    return float(known.mean()) if len(known) and known.mean() > 0 else 1.0


def seed_of(*parts: object) -> int:
    return int(hashlib.md5("|".join(map(str, parts)).encode()).hexdigest()[:8], 16)


def first_date(hist: pd.DataFrame, day: dt.date) -> dt.date:
    """The first presentation date learned from (``day`` without any)."""
    return pd.Timestamp(hist["date"].min()).date() if len(hist) else day


def segments(scores: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.searchsorted(edges, scores, side="right")


def _scores(
    con: duckdb.DuckDBPyConnection, exp: ExperimentSpec, before: dt.date, ids: np.ndarray
) -> np.ndarray:
    if not (exp.model and table_exists(con, "predictions")):
        return np.zeros(len(ids))
    s = _frame(con, "policy_scores", {"model": exp.model, "before": before}).set_index("customer_id")["score"]
    return s.reindex(ids).fillna(s.mean() if len(s) else 0.0).to_numpy(dtype=float)


def thompson_probabilities(
    seg_train: np.ndarray,
    arm: np.ndarray,
    converted: np.ndarray,
    seg_now: np.ndarray,
    arms: int,
    exploration: float,
    seed: int,
    weight: np.ndarray | None = None,
    eligible: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate: P(best arm) of its segment, among the arms it is ``eligible`` for (per candidate
    and arm; default all), and the posterior mean rate of each arm.

    ``arm``: each past presentation's arm (-1: not an arm, left out); segments 0..SEGMENTS-1;
    ``weight``: each presentation's trial weight (policies.seen_weights; 1 when None).
    """
    keep = arm >= 0
    w = np.ones(len(arm)) if weight is None else np.asarray(weight, dtype=float)
    trials = np.zeros((SEGMENTS, arms))
    successes = np.zeros((SEGMENTS, arms))
    np.add.at(trials, (seg_train[keep], arm[keep]), w[keep])
    np.add.at(successes, (seg_train[keep], arm[keep]), converted[keep])
    rates = ((successes + 1) / (trials + 2))[seg_now]
    if eligible is None:
        return thompson(successes, trials, exploration, seed)[seg_now], rates
    # one posterior draw per set of eligible arms (a few sets, not one per candidate)
    sets, which = np.unique(np.asarray(eligible, dtype=bool), axis=0, return_inverse=True)
    probs = np.stack([thompson(successes, trials, exploration, seed, eligible=e) for e in sets])
    return probs[which.ravel(), seg_now], rates


def segment_edges(scores: np.ndarray) -> np.ndarray:
    """The quantiles cutting ``scores`` into SEGMENTS segments (none without scores)."""
    return np.quantile(scores, np.linspace(0, 1, SEGMENTS + 1)[1:-1]) if len(scores) else np.zeros(0)


def warming_up(arm: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Per candidate: whether propensity or uplift is still learning for them, i.e. they are
    ``eligible`` (per candidate and arm) for an arm with fewer than MIN_ROWS presentations to learn
    from (``arm``: each one's arm, -1: left out). Those draw uniformly among their eligible variants;
    the others are decided by what was learned of the arms they can get, so a new or rarely eligible
    variant holds back only the customers who can get it (and an arm no candidate can get, nobody)."""
    counts = np.bincount(arm[arm >= 0], minlength=eligible.shape[1])
    return np.asarray((eligible & (counts < MIN_ROWS)).any(axis=1), dtype=bool)


def warming_notes(arm: np.ndarray, eligible: np.ndarray, arms: list[str]) -> np.ndarray:
    """Per candidate: why propensity or uplift draws them uniformly, naming the eligible arms with fewer
    than MIN_ROWS presentations to learn from and how many each has (``uniform until each eligible arm
    has 50 presentations to learn from (free_shipping 20 of 50)``); '' for a candidate decided by what
    was learned (``warming_up`` False)."""
    if not len(eligible):
        return np.zeros(0, dtype=object)
    counts = np.bincount(arm[arm >= 0], minlength=eligible.shape[1])
    cold = eligible & (counts < MIN_ROWS)
    kinds, which = np.unique(cold, axis=0, return_inverse=True)  # a few sets of arms, not one per candidate
    labels = np.array([f"{a} {n} of {MIN_ROWS}" for a, n in zip(arms, counts.tolist(), strict=True)])
    start = f"uniform until each eligible arm has {MIN_ROWS} presentations to learn from"
    notes = np.array([f"{start} ({', '.join(labels[k])})" if k.any() else "" for k in kinds], dtype=object)
    return notes[np.asarray(which).reshape(-1)]


def learned_probabilities(
    policy: str,
    x_train: np.ndarray,
    arm: np.ndarray,
    converted: np.ndarray,
    x_now: np.ndarray,
    eligible: np.ndarray,
    value: float,
    cost: np.ndarray,
    exploration: float,
    seed: int,
    weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """propensity or uplift: per candidate and arm the probability (over the eligible arms) and the
    expected value (incremental for uplift, whose arm 0 is no treatment). ``arm``: each past
    presentation's arm (-1: left out); ``weight``: each one's (policies.seen_weights; 1 when None).
    Uniform among their eligible variants (expected value 0) for the candidates still warming up
    (``warming_up``); ``x_now`` may then be empty (no candidate learned)."""
    arms, variants = eligible.shape[1], len(cost)
    uniform = eligible.copy()  # uniform among the eligible variants
    uniform[:, : arms - variants] = False
    probs, expected = masked(uniform.astype(float), uniform), np.zeros(eligible.shape)
    learned = ~warming_up(arm, eligible)
    if not learned.any():
        return probs, expected
    keep = arm >= 0
    y = converted[keep].astype(int)
    w = (np.ones(len(arm)) if weight is None else np.asarray(weight, dtype=float))[keep]
    if policy == "uplift":  # one pooled model on every row: tonight's candidates are new decisions
        learner: PooledLearner | TLearner = PooledLearner(arms=arms, folds=1, seed=seed).fit(
            x_train[keep], arm[keep], y, w
        )
    else:
        learner = TLearner(arms=arms, seed=seed).fit(x_train[keep], arm[keep], y, w)
    rates = learner.predict(x_now[learned])
    values = np.full(variants, value)
    exploration = policies.decayed(exploration, int(w.sum()))
    allowed = eligible[learned]
    if policy == "uplift":
        probs[learned] = masked(policies.uplift(rates, values, cost, exploration, allowed), allowed)
        expected[learned] = policies.incremental_value(rates, values, cost)
    else:
        probs[learned] = masked(policies.propensity(rates, values, cost, exploration, allowed), allowed)
        expected[learned] = rates * value - cost
    return probs, expected


def policy_matrix(
    con: duckdb.DuckDBPyConnection,
    config: ExperimentsConfig,
    exp: ExperimentSpec,
    day: dt.date,
    customers: np.ndarray,
    eligible: np.ndarray,
    features: RunFeatures | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per candidate and arm: the probability (over the eligible arms) and the expected value; per
    candidate: the arms propensity or uplift is still warming up on (``warming_notes``; '' when none,
    and always under thompson, which has no warm-up). The customer features come from the run's ``features``
    when given (built once a run), else are built."""
    arms = arms_of(exp)
    hist = pd.DataFrame(
        columns=["date", "customer_id", "variant", "is_control", "capped", "converted", "value"]
        + ["elapsed_days"]
    )
    if table_exists(con, "conversions"):
        params = {
            "experiment": exp.name,
            "day": day,
            "window_days": config.conversions.window_days,
            "lookback_days": LOOKBACK_DAYS,
            "every_match": counts_every_match(config, exp),
        }
        hist = _frame(con, "policy_history", params)
    arm = history_arms(hist["variant"].to_numpy(dtype=object), arms, hist["capped"].to_numpy(dtype=bool))
    converted = hist["converted"].to_numpy(dtype=bool)
    weight = policies.seen_weights(
        converted, hist["elapsed_days"].to_numpy(dtype=float), config.conversions.window_days
    )
    value = conversion_value(hist["value"].to_numpy(dtype=float), converted)
    cost = np.array([config.variant(v).cost for v in exp.variants])
    first = first_date(hist, day)
    if exp.policy == "thompson":
        train_scores = _scores(con, exp, first, hist["customer_id"].to_numpy())
        edges = segment_edges(train_scores)
        seg_now = segments(_scores(con, exp, day, customers), edges)
        probs, rates = thompson_probabilities(
            segments(train_scores, edges),
            arm,
            converted,
            seg_now,
            len(arms),
            exp.exploration,
            seed_of(exp.name, day),
            weight,
            eligible,
        )
        return masked(probs, eligible), rates * value - cost, np.full(len(customers), "", dtype=object)
    x_train = x_now = np.zeros((0, 0))
    if not warming_up(arm, eligible).all():  # features only to learn
        spec = config.model(exp.model or "")
        frame = (features or RunFeatures()).frame
        train = frame(con, spec, first).reindex(hist["customer_id"])
        x_train, x_now = numeric(train, frame(con, spec, day).reindex(customers))
    probs, expected = learned_probabilities(
        exp.policy,
        x_train,
        arm,
        converted,
        x_now,
        eligible,
        value,
        cost,
        exp.exploration,
        seed_of(exp.name),
        weight,
    )
    return probs, expected, warming_notes(arm, eligible, arms)


def decide_by_policy(
    con: duckdb.DuckDBPyConnection,
    config: ExperimentsConfig,
    exp: ExperimentSpec,
    day: dt.date,
    features: RunFeatures | None = None,
) -> None:
    """Fill ``_policy`` with the experiment's probabilities for tonight's candidates (``_cand``);
    uplift's no_treatment arm becomes a candidate of every customer. ``features``: see policy_matrix."""
    cand = _frame(con, "policy_candidates", {"experiment": exp.name})
    if cand.empty:
        return
    arms = arms_of(exp)
    customers, row = np.unique(cand["customer_id"].to_numpy(dtype=str), return_inverse=True)
    eligible = np.zeros((len(customers), len(arms)), dtype=bool)
    eligible[row, [arms.index(v) for v in cand["variant"]]] = True
    if exp.policy == "uplift":
        eligible[:, 0] = True
        text = sql("experiments/add_no_treatment")
        con.execute(text, bind(text, {"experiment": exp.name}))
    probs, value, warming = policy_matrix(con, config, exp, day, customers, eligible, features)
    r, c = np.nonzero(eligible)
    rows = pd.DataFrame(
        {
            "customer_id": customers[r],
            "variant": np.array(arms)[c],
            "p": probs[r, c],
            "value": value[r, c],
            "warming": warming[r],
        }
    )
    con.register("_policy_rows", rows)
    try:
        text = sql("experiments/insert_policy")
        con.execute(text, bind(text, {"experiment": exp.name}))
    finally:
        con.unregister("_policy_rows")
