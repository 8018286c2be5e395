"""Nightly decisions: which customer gets which variant of which experiment on a date.

The ``results`` partition of night N holds the decisions presented on the next day, D = N + 1
(:func:`presentation_day`): the nightly run that loads day N's files decides the day that starts as
it runs. The decisions of D are made from the data before D (transactions of the partitions up to N,
customers first seen before D), so re-running a night later gives the same rows; a row's ``date`` is
its presentation day D. How a decision is made is in sql/experiments/decide.sql:

* **qualifying**: a known, not-excluded customer who passes every audience rule of the experiment
  and is eligible for at least one of its variants (every rule of the variant);
* **cadence** (``cadence_days`` N): a customer is a candidate on one night in every N only, the
  presentation days whose number modulo N is a hash of (customer, experiment), of (customer, group) in
  a group, whose experiments share one cadence: the group decides a customer once in N days
  (applied to the audience: sql/experiments/audience.sql);
* **control**: a customer new to the experiment is held out when a hash of (customer, experiment) is
  below the control share; one it decided before keeps the side of their first decision and the share
  it was drawn with (results.control_share), so control membership never changes between nights, not
  even when the share does;
* **variant**: by the experiment's ``policy``. ``uniform`` (the default): with probability
  ``exploration`` uniform among the eligible variants, else drawn in proportion to the variants'
  propensities (A/B experiments: always uniform). ``propensity``, ``uplift``, ``thompson``: drawn
  from the probabilities the policy gives each customer (pipeline/experiments/learned.py); uplift
  may choose ``no_treatment``. The draw is seeded by (customer, experiment, date);
* **assignment_probability**: every row logs the probability its arm had (control and
  no_treatment are one action, nothing sent), so any policy can be evaluated off-line;
* **group**: several experiments decided together keep, per customer, the one with the best
  expected value: score x the expected propensity of the experiment's draw (sum over its eligible
  variants of P(variant) x propensity, exploration included), never the propensity of the variant
  actually drawn nor the exploration coin, so that the choice of experiment does not skew the
  variants' shares within it.

A rule ``{transaction, field, formula}`` holds for a customer when at least one row of theirs in
that transaction, before D, matches it; a rule ``{transaction: customers, field, formula}`` holds when
the customer's data (a customer column: txt_*, num_*, goal_*, ...) matches it. `customers` keeps the
latest attributes only, so such a rule sees the attributes as last loaded, not as they were before
D. A variant's **propensity** is the posterior mean (converted + 1) / (presented + 2) of its
presentations whose conversion window closed before D and is complete; with none (a variant added to a running
experiment) it is the mean propensity of the experiment's variants that have some, and 0.5 when none
has, so a new experiment starts uniform. The **score** of a customer is the
experiment's model score from ``predictions`` (the latest partition before D) when the
experiment names a model and that table exists; otherwise 1 (fallback: the expected value is then
the variant's propensity alone). With ``value_model`` (a clv model; the uniform policy only) the score
is multiplied by the customer's expected value in ``clv`` (the latest partition before D), so groups
and capacities choose by expected money (score x CLV x propensity).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import duckdb
import pandas as pd

from pipeline.core.catalog import CUSTOMER_ID, register_customer_table
from pipeline.core.rules import CUSTOMERS, Params, Rule, compile_condition, rule_condition
from pipeline.core.sql import bind, ident, sql
from pipeline.core.warehouse import table_exists, transaction
from pipeline.experiments.config import ExperimentsConfig, ExperimentSpec
from pipeline.experiments.learned import RunFeatures, decide_by_policy
from pipeline.experiments.timing import send_times

RESULTS = "results"
PREDICTIONS = "predictions"
CLV = "clv"
CONVERSIONS = "conversions"
REACH_KINDS = {"email": "emailsha256", "mobile": "idfa"}  # a channel's identifier in the customer data


def schemas(config: ExperimentsConfig) -> dict:
    return {t.name: {f.name: f.type for f in t.fields} for t in config.transactions}


class DecisionError(ValueError):
    """A rule that cannot be applied to the warehouse as it is (names the rule's key path)."""


def customer_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The columns of the customer data, in table order."""
    return [r[0] for r in con.execute(sql("experiments/customer_columns"), {"table": CUSTOMERS}).fetchall()]


def member(column: str, subquery: str) -> str:
    """SQL: the SQL expression ``column`` is one of the values ``subquery`` selects."""
    return f"{column} IN ({subquery})"


def customer_rule_sql(
    con: duckdb.DuckDBPyConnection, rule: Rule, params: Params, column: str, path: str
) -> str:
    """SQL: the customer ``column`` (a customer_id = customuid) has customer data matching the rule.

    `customers` keeps each customer's latest attributes only (no history): the rule sees the
    attributes as last loaded, also when an earlier night is re-run.
    """
    cond = rule_condition(rule, {}, customers=True)
    have = customer_columns(con)
    if cond.field not in have:
        raise DecisionError(
            f"{path}.field: the customer data has no column {cond.field!r} "
            f"(its columns: {', '.join(c for c in have if not c.startswith('_'))})"
        )
    matches = compile_condition(cond, params, "c." + ident(cond.field))
    return member(column, sql("experiments/rule_customers", fragments={"condition": matches}))


def rule_sql(
    con: duckdb.DuckDBPyConnection,
    config: ExperimentsConfig,
    rule: Rule,
    params: Params,
    column: str,
    path: str = "rule",
) -> str:
    """SQL: ``column`` (a customer_id) has a row in the rule's transaction before $day that matches it
    (for ``transaction: customers``: customer data that matches it, see :func:`customer_rule_sql`)."""
    if rule.transaction == CUSTOMERS and CUSTOMERS not in schemas(config):
        return customer_rule_sql(con, rule, params, column, path)
    spec = config.transaction(rule.transaction)
    cond = rule_condition(rule, schemas(config))
    if not (table_exists(con, spec.table) and table_exists(con, "events")):
        return "FALSE"  # no rows of that transaction yet: nobody matches
    rows = sql(
        "experiments/rule_rows",
        idents={"tx_table": spec.table},
        fragments={
            "dataset": params.add(spec.name),
            "condition": compile_condition(cond, params, "x." + ident(cond.field)),
        },
    )
    return member(column, rows)


def presentation_day(night: dt.date) -> dt.date:
    """The day the decisions of the `results` partition ``night`` are presented on: the next one. Its
    data (day ``night``'s files) is the last the decisions read; the day decided starts as it runs."""
    return night + dt.timedelta(days=1)


def active(exp: ExperimentSpec, day: dt.date) -> bool:
    return exp.enabled and (exp.start is None or exp.start <= day) and (exp.end is None or day <= exp.end)


def _run(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: Mapping[str, object],
    idents: Mapping[str, str] | None = None,
    fragments: Mapping[str, str] | None = None,
) -> None:
    """Run sql/experiments/<name>.sql with its placeholders filled and the values it uses bound."""
    text = sql(f"experiments/{name}", idents=idents, fragments=fragments)
    con.execute(text, bind(text, params))


def day_rows(con: duckdb.DuckDBPyConnection, table: str, day: dt.date) -> int:
    """The rows of a table keyed by ``date`` whose date is ``day``."""
    return con.execute(sql("experiments/day_rows", idents={"table": table}), {"day": day}).fetchall()[0][0]


def _candidates(
    con: duckdb.DuckDBPyConnection, config: ExperimentsConfig, exp: ExperimentSpec, day: dt.date
) -> None:
    """The people eligible for each variant of ``exp``: its audience (the audience rules and, with a
    cadence, the customers whose night it is), selected once, then each variant's rules over it."""
    i = config.experiments.index(exp)
    params = Params()
    paths = [f"experiments[{i}].audience[{j}]" for j in range(len(exp.audience))]
    where = [
        rule_sql(con, config, r, params, "p.customer_id", path)
        for r, path in zip(exp.audience, paths, strict=True)
    ]
    # with a cadence, only the customers whose night it is (the group's night in a group)
    key = config.group_of(exp.name) or exp.name
    values = {**params.values, "day": day, "cadence_key": key, "cadence_days": exp.cadence_days}
    _run(con, "audience", values, fragments={"rules": " AND ".join(where) or "TRUE"})
    for name in exp.variants:
        params = Params()
        v = [x.name for x in config.variants].index(name)
        paths = [f"variants[{v}].rules[{j}]" for j in range(len(config.variant(name).rules))]
        where = [
            rule_sql(con, config, r, params, "p.customer_id", path)
            for r, path in zip(config.variant(name).rules, paths, strict=True)
        ]
        reach = config.variant(name).reach
        if reach:  # a channel: only the customers reachable on it
            kind = params.add(REACH_KINDS[reach])
            where.append(member("p.customer_id", sql("experiments/reachable", fragments={"kind": kind})))
        rules = " AND ".join(where) or "TRUE"
        values = {**params.values, "experiment": exp.name, "variant": name, "day": day}
        _run(con, "candidates", values, fragments={"rules": rules})


def _insert(
    con: duckdb.DuckDBPyConnection, view: str, frame: pd.DataFrame, name: str, experiment: str
) -> None:
    """Run sql/experiments/<name>.sql over ``frame`` registered as ``view``."""
    con.register(view, frame)
    try:
        _run(con, name, {"experiment": experiment})
    finally:
        con.unregister(view)


def prepare_results(con: duckdb.DuckDBPyConnection) -> None:
    """The tables ``decide`` writes and reads whatever the day, as the code declares them (`results`,
    registered for forget, and `customer_identities`): once a run, or by ``decide``."""
    con.execute(sql("experiments/create_results"))
    register_customer_table(con, RESULTS, "customer_id", CUSTOMER_ID)
    con.execute(sql("customers/identity/create_identities"))


def decide(
    con: duckdb.DuckDBPyConnection,
    config: ExperimentsConfig,
    day: dt.date,
    features: RunFeatures | None = None,
    prepared: bool = False,
) -> int:
    """Replace the decisions presented on ``day`` in `results` (the rows of that date; the partition of the
    night before writes them); returns their count. A disabled experiment decides nothing. ``features``:
    the customer features the run built (learned.RunFeatures), reused by a learned policy. ``prepared``:
    the caller ran ``prepare_results`` once for its run (a range decides up to a few hundred days).
    A day without an active experiment only has its rows deleted (none is decided)."""
    if not prepared:
        prepare_results(con)
    experiments = [e for e in config.experiments if active(e, day)]
    if not experiments:  # nothing to decide: what the full statement below would insert, no row
        with transaction(con):
            _run(con, "delete_day", {"day": day}, idents={"table": RESULTS})
        return day_rows(con, RESULTS, day)
    con.execute(sql("experiments/prepare_decisions"))
    if table_exists(con, "customers"):
        _run(con, "people", {"day": day})
        for exp in experiments:
            settings = {
                "experiment": exp.name,
                "experiment_group": config.group_of(exp.name),
                "control_share": exp.control_share,
                "exploration": exp.exploration,
                "weighted": exp.type != "AB",
                "policy": exp.policy,
            }
            _run(con, "add_experiment", settings)
            _candidates(con, config, exp, day)
            if exp.model and table_exists(con, PREDICTIONS):
                _run(con, "scores", {"experiment": exp.name, "model": exp.model, "day": day})
            if exp.value_model and table_exists(con, CLV):  # score × the customer's lifetime value
                _run(con, "value_scores", {"experiment": exp.name, "model": exp.value_model, "day": day})
            if exp.policy != "uniform":
                decide_by_policy(con, config, exp, day, features)
            if exp.slots:
                _insert(con, "_send_rows", send_times(con, exp, day), "insert_send_at", exp.name)
        if table_exists(con, CONVERSIONS):
            _run(con, "rates", {"day": day, "window_days": config.conversions.window_days})
    with transaction(con):
        _run(con, "delete_day", {"day": day}, idents={"table": RESULTS})
        _run(con, "decide", {"day": day})
        for exp in experiments:
            for variant, capacity in exp.capacity.items():
                values = {"day": day, "experiment": exp.name, "variant": variant, "capacity": capacity}
                _run(con, "capacity", values)
    con.execute(sql("experiments/drop_decision_tables"))
    return day_rows(con, RESULTS, day)
