"""Off-policy evaluation: what each policy would reach, from the logged decisions (`policy_evaluation`).

Per experiment, from its decisions whose conversion window is complete and whose
``assignment_probability`` is logged (sql/experiments/policy_log.sql): the arm each got (0: nothing
sent, control or no_treatment; then the variants), the probability it had, and whether it converted.
A cross-fitted T-learner (policies/learner.py) on the features of the experiment's model (as of the
first logged date, kept between nights while their inputs are unchanged: policy_features.py;
none without a model) gives each row's out-of-fold conversion rate per arm; from
those rates each policy's probabilities are set as the policy would set them (``uniform`` among the
variants, ``propensity``, ``uplift``, ``thompson`` per quintile of the predicted no-treatment rate,
with the experiment's exploration, among the arms each row was eligible for: ``eligible_variants``),
and ``nothing`` sends nothing. Each policy's conversion rate per
decision is estimated by inverse propensity scoring and doubly robust (the T-learner as reward model),
with 95% normal intervals; ``incremental`` is the doubly robust difference to ``nothing`` per
decision, with its interval (the per-row differences). A team compares policies before switching.

An experiment is evaluated once it has MIN_DECISIONS such decisions and MIN_PER_ARM of every arm some of
them could get (nothing sent always; a variant when some decision was eligible for it): a variant none
could get is no evaluated policy's choice and is not waited for. The run's ``experiments`` metadata
says, per experiment, what was evaluated, or why it was left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dagster as dg
import duckdb
import numpy as np
import pandas as pd

from pipeline.core.metadata import column_schema, markdown_table
from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import table_exists
from pipeline.experiments import policies
from pipeline.experiments.config import NO_TREATMENT, ExperimentsConfig, ExperimentSpec
from pipeline.experiments.learned import (
    first_date,
    history_arms,
    masked,
    numeric,
    segment_edges,
    segments,
    thompson_probabilities,
)
from pipeline.experiments.policies.evaluation import dr_terms, estimate, ips_terms
from pipeline.experiments.policies.learner import TLearner
from pipeline.experiments.policy_features import drop_unused, policy_features

POLICY_EVALUATION = "policy_evaluation"
MIN_DECISIONS = 100  # logged decisions with a complete window before an experiment is evaluated
MIN_PER_ARM = 10  # and of every arm some of them could get
EVALUATED = ("nothing", "uniform", "propensity", "uplift", "thompson")
COLUMNS = [
    "experiment",
    "policy",
    "decisions",
    "ips_rate",
    "ips_low",
    "ips_high",
    "dr_rate",
    "dr_low",
    "dr_high",
    "incremental",
    "incremental_low",
    "incremental_high",
]


def eligibility(eligible: np.ndarray, variants: list[str]) -> np.ndarray:
    """Per logged row (its eligible variants as ",a,b," or ",*," when not logged) and arm, whether the
    customer could get it; nothing sent (column 0) always."""
    text = eligible.astype(str)
    columns = [np.char.find(text, f",{v},") >= 0 for v in variants]
    return np.column_stack([np.ones(len(text), dtype=bool), *columns]) | (text == ",*,")[:, None]


def target_policies(
    rates: np.ndarray,
    arm: np.ndarray,
    converted: np.ndarray,
    cost: np.ndarray,
    exploration: float,
    seed: int,
    eligible: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Each evaluated policy's probabilities per row and arm (column 0: nothing sent), set from
    ``rates`` (per row and arm, the reward model's conversion rates) as the policy would set them,
    among the arms each row was eligible for (``eligible``; default all)."""
    n, arms = rates.shape
    values = np.ones(arms - 1)
    out = {name: np.zeros((n, arms)) for name in EVALUATED}
    out["nothing"][:, 0] = 1.0
    out["uniform"][:, 1:] = policies.uniform(n, arms - 1)
    variants = None if eligible is None else eligible[:, 1:]
    out["propensity"][:, 1:] = policies.propensity(rates[:, 1:], values, cost, exploration, variants)
    out["uplift"] = policies.uplift(rates, values, cost, exploration, eligible)
    edges = segment_edges(rates[:, 0])
    seg = segments(rates[:, 0], edges)
    out["thompson"][:, 1:], _ = thompson_probabilities(
        seg, arm - 1, converted, seg, arms - 1, exploration, seed, eligible=variants
    )
    if eligible is None:
        return out
    return {name: p if name == "nothing" else masked(p, eligible) for name, p in out.items()}


def evaluate(
    x: np.ndarray,
    arm: np.ndarray,
    logged: np.ndarray,
    converted: np.ndarray,
    cost: np.ndarray,
    exploration: float,
    seed: int = 0,
    eligible: np.ndarray | None = None,
) -> list[list]:
    """Per evaluated policy: decisions, IPS rate and interval, DR rate and interval, incremental
    (DR against sending nothing) and interval."""
    learner = TLearner(arms=len(cost) + 1, seed=seed).fit(x, arm, converted.astype(int))
    assert learner.out_of_fold is not None
    return estimates(learner.out_of_fold, arm, logged, converted, cost, exploration, seed, eligible)


def estimates(
    predicted: np.ndarray,
    arm: np.ndarray,
    logged: np.ndarray,
    converted: np.ndarray,
    cost: np.ndarray,
    exploration: float,
    seed: int = 0,
    eligible: np.ndarray | None = None,
) -> list[list]:
    """evaluate's rows from the reward model's out-of-fold rates ``predicted`` (per row and arm)."""
    targets = target_policies(predicted, arm, converted, cost, exploration, seed, eligible)
    y = converted.astype(float)
    nothing = dr_terms(y, arm, logged, targets["nothing"], predicted)
    rows = []
    for name, target in targets.items():
        i = estimate(ips_terms(y, arm, logged, target), 0.95)
        terms = dr_terms(y, arm, logged, target, predicted)
        d, inc = estimate(terms, 0.95), estimate(terms - nothing, 0.95)
        rows.append(
            [name, len(y), i.value, i.low, i.high, d.value, d.low, d.high, inc.value, inc.low, inc.high]
        )
    return rows


def policy_log(con: duckdb.DuckDBPyConnection, exp: ExperimentSpec) -> pd.DataFrame:
    """The experiment's logged decisions the evaluation learns from (sql/experiments/policy_log.sql)."""
    text = sql("experiments/policy_log")
    return con.execute(text, bind(text, {"experiment": exp.name})).df()


@dataclass(frozen=True)
class Logged:
    """An experiment's logged decisions as the evaluation reads them: the log (policy_log), each row's
    arm (0: nothing sent), the features of the experiment's model, each variant's cost and which arms
    each row was eligible for."""

    log: pd.DataFrame
    arm: np.ndarray
    x: np.ndarray
    cost: np.ndarray
    eligible: np.ndarray


def shortfall(arm: np.ndarray, eligible: np.ndarray, arms: list[str]) -> str | None:
    """Why the logged decisions are too few to evaluate (None: enough): fewer than MIN_DECISIONS, or
    fewer than MIN_PER_ARM of an arm some of them could get (``eligible``, per decision and arm; nothing
    sent: every one). An arm none of them could get (a variant whose rules or channel nobody met) is
    not waited for: it has no logged decision to learn from, and no evaluated policy chooses it."""
    if len(arm) < MIN_DECISIONS:
        return f"too few decisions ({MIN_DECISIONS} needed)"
    counts = np.bincount(arm, minlength=len(arms))
    short = np.flatnonzero(eligible.any(axis=0) & (counts < MIN_PER_ARM))
    if len(short):
        few = ", ".join(f"{arms[a]}: {counts[a]}" for a in short)
        return f"too few of {few} ({MIN_PER_ARM} needed)"
    return None


def never_eligible(eligible: np.ndarray, arms: list[str]) -> list[str]:
    """The arms no logged decision could get."""
    return [arms[a] for a in np.flatnonzero(~eligible.any(axis=0))]


NOTES = ["experiment", "decisions", "evaluated", "arms no decision could get", "left out because"]


def _logged(
    con: duckdb.DuckDBPyConnection,
    config: ExperimentsConfig,
    exp: ExperimentSpec,
    features: dict[tuple[str, dt.date], pd.DataFrame] | None,
) -> Logged | tuple[int, str]:
    """logged_decisions, or how many there are and why too few (shortfall)."""
    log = policy_log(con, exp)
    arms = [NO_TREATMENT, *exp.variants]
    arm = history_arms(log["variant"].to_numpy(dtype=object), arms)
    keep = arm >= 0
    log, arm = log[keep], arm[keep]
    eligible = eligibility(log["eligible"].to_numpy(dtype=str), list(exp.variants))
    short = shortfall(arm, eligible, arms)
    if short:
        return len(arm), short
    x = np.zeros((len(log), 1))
    if exp.model:
        key = (exp.model, first_date(log, dt.date.max))
        features = {} if features is None else features
        if key not in features:
            features[key] = policy_features(con, config.model(exp.model), key[1])
        frame = features[key]
        x, _ = numeric(frame.reindex(log["customer_id"]), frame, score_matrix=False)
    cost = np.array([config.variant(v).cost for v in exp.variants])
    return Logged(log, arm, x, cost, eligible)


def logged_decisions(
    con: duckdb.DuckDBPyConnection,
    config: ExperimentsConfig,
    exp: ExperimentSpec,
    features: dict[tuple[str, dt.date], pd.DataFrame] | None = None,
) -> Logged | None:
    """The experiment's logged decisions, or None when too few to evaluate anything (shortfall).
    ``features``: the customer features already read, by (model, cut-off); those read here are added
    (experiments sharing a model and a first logged date read them once)."""
    found = _logged(con, config, exp, features)
    return None if isinstance(found, tuple) else found


def build_policy_evaluation(
    con: duckdb.DuckDBPyConnection, config: ExperimentsConfig
) -> tuple[int, list[list]]:
    """Rebuild the `policy_evaluation` table; returns its rows and, per experiment, a row of NOTES: its
    logged decisions, whether it was evaluated, the arms none of them could get, why it was left out."""
    rows: list[list] = []
    notes: list[list] = []
    have = table_exists(con, "conversions") and table_exists(con, "results")
    features: dict[tuple[str, dt.date], pd.DataFrame] = {}
    for exp in config.experiments if have else []:
        d = _logged(con, config, exp, features)
        if isinstance(d, tuple):
            notes.append([exp.name, d[0], "no", "", d[1]])
            continue
        never = never_eligible(d.eligible, [NO_TREATMENT, *exp.variants])
        notes.append([exp.name, len(d.arm), "yes", ", ".join(never), ""])
        found = evaluate(
            d.x,
            d.arm,
            d.log["assignment_probability"].to_numpy(dtype=float),
            d.log["converted"].to_numpy(dtype=bool),
            d.cost,
            exp.exploration,
            eligible=d.eligible,
        )
        rows += [[exp.name, *r] for r in found]
    if have:
        drop_unused(con, set(features))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    con.register("_evaluation_rows", frame)
    try:
        con.execute(sql("experiments/write_policy_evaluation"))
    finally:
        con.unregister("_evaluation_rows")
    return len(frame), notes


def run_policy_evaluation(con: duckdb.DuckDBPyConnection, config: ExperimentsConfig) -> dict:
    """Rebuild `policy_evaluation`; the metadata of the run (the table as markdown, and per experiment
    what was evaluated or why it was left out)."""
    rows, notes = build_policy_evaluation(con, config)
    table = con.execute(sql("experiments/policy_evaluation_table")).fetchall()
    headers = ["experiment", "policy", "decisions", "DR rate [95% CI]", "incremental [95% CI]", "IPS rate"]
    return {
        "dagster/row_count": rows,
        "dagster/column_schema": column_schema(con, POLICY_EVALUATION),
        "evaluation": dg.MetadataValue.md(markdown_table(headers, table)),
        "experiments": dg.MetadataValue.md(markdown_table(NOTES, notes)),
    }
