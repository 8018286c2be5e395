"""Nightly decisions: which customer gets which variant of which experiment on a date.

The ``results`` partition of day D holds the decisions presented on D. They are made from the data
before D (transactions of earlier partitions, customers first seen before D), so re-running a night
later gives the same rows. How a decision is made is in sql/experiments/decide.sql:

* **qualifying**: a known, not-excluded customer who passes every audience rule of the experiment
  and is eligible for at least one of its variants (every rule of the variant);
* **control**: a hash of (customer, experiment) below the control share: the customer's control
  membership never changes between nights;
* **variant**: with probability ``exploration`` uniform among the eligible variants, else drawn in
  proportion to the variants' propensities (A/B experiments: always uniform); the draw is seeded by
  (customer, experiment, date);
* **group**: several experiments decided together keep, per customer, the one with the best
  expected value: score x the expected propensity of the experiment's draw (sum over its eligible
  variants of P(variant) x propensity), never the propensity of the variant actually drawn, so
  that the choice of experiment does not skew the variants' shares within it.

A rule ``{transaction, field, formula}`` holds for a customer when at least one row of theirs in
that transaction, before D, matches it; a rule ``{transaction: customers, field, formula}`` holds when
the customer's data (a customer column: txt_*, num_*, goal_*, ...) matches it. `customers` keeps the
latest attributes only, so such a rule sees the attributes as last loaded, not as they were before D. A variant's **propensity** is the posterior mean
(converted + 1) / (presented + 2) of its presentations whose conversion window closed before D;
with none it is 0.5, so a new experiment starts uniform. The **score** of a customer is the
experiment's model score from ``predictions`` (the latest partition before D) when the
experiment names a model and that table exists; otherwise 1 (fallback: the expected value is then
the variant's propensity alone).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipeline.core.catalog import CUSTOMER_ID, register_customer_table
from pipeline.core.rules import CUSTOMERS, Params, Rule, compile_condition, rule_condition
from pipeline.core.sql import bind, ident, sql
from pipeline.core.warehouse import table_exists, transaction
from pipeline.experiments.config import ExperimentsConfig, ExperimentSpec

RESULTS = "results"
PREDICTIONS = "predictions"
CONVERSIONS = "conversions"


def schemas(config: ExperimentsConfig) -> dict:
    return {t.name: {f.name: f.type for f in t.fields} for t in config.transactions}


class DecisionError(ValueError):
    """A rule that cannot be applied to the warehouse as it is (names the rule's key path)."""


def customer_rule_sql(
    con: duckdb.DuckDBPyConnection, rule: Rule, params: Params, column: str, path: str
) -> str:
    """SQL: the customer ``column`` (a customer_id = customuid) has customer data matching the rule.

    `customers` keeps each customer's latest attributes only (no history): the rule sees the
    attributes as last loaded, also when an earlier night is re-run.
    """
    cond = rule_condition(rule, {}, customers=True)
    have = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [CUSTOMERS],
        ).fetchall()
    ]
    if cond.field not in have:
        raise DecisionError(
            f"{path}.field: the customer data has no column {cond.field!r} "
            f"(its columns: {', '.join(c for c in have if not c.startswith('_'))})"
        )
    return (
        f"{column} IN (SELECT c.customuid FROM {CUSTOMERS} c "
        f"WHERE {compile_condition(cond, params, 'c.' + ident(cond.field))})"
    )


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
    return (
        f"{column} IN (SELECT e.customer_id FROM {ident(spec.table)} x JOIN events e "
        f"ON e.event_id = {params.add(spec.name)} || ':' || x._load_id || ':' || x._row_number "
        f"WHERE x._partition_date < $day AND e.customer_id IS NOT NULL "
        f"AND {compile_condition(cond, params, 'x.' + ident(cond.field))})"
    )


def active(exp: ExperimentSpec, day: dt.date) -> bool:
    return exp.enabled and (exp.start is None or exp.start <= day) and (exp.end is None or day <= exp.end)


def _run(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> None:
    text = sql(f"experiments/{name}")
    con.execute(text, bind(text, params))


def decide(con: duckdb.DuckDBPyConnection, config: ExperimentsConfig, day: dt.date) -> int:
    """Replace the ``day`` partition of `results`; returns its rows. A disabled experiment decides nothing."""
    con.execute(sql("experiments/create_results"))
    register_customer_table(con, RESULTS, "customer_id", CUSTOMER_ID)
    con.execute(sql("customers/identity/create_identities"))
    con.execute(sql("experiments/prepare_decisions"))
    experiments = [e for e in config.experiments if active(e, day)]
    if experiments and table_exists(con, "customers"):
        _run(con, "people", {"day": day})
        for exp in experiments:
            con.execute(
                "INSERT INTO _exp VALUES (?, ?, ?, ?, ?)",
                [exp.name, config.group_of(exp.name), exp.control_share, exp.exploration, exp.type != "AB"],
            )
            i = config.experiments.index(exp)
            for name in exp.variants:
                params = Params()
                v = [x.name for x in config.variants].index(name)
                paths = [f"experiments[{i}].audience[{j}]" for j in range(len(exp.audience))]
                paths += [f"variants[{v}].rules[{j}]" for j in range(len(config.variant(name).rules))]
                where = [
                    rule_sql(con, config, r, params, "p.customer_id", path)
                    for r, path in zip([*exp.audience, *config.variant(name).rules], paths, strict=True)
                ]
                query = (
                    f"INSERT INTO _cand SELECT p.customer_id, $experiment, $variant FROM _people p "
                    f"WHERE {' AND '.join(where) or 'TRUE'}"
                )
                con.execute(
                    query, bind(query, {**params.values, "experiment": exp.name, "variant": name, "day": day})
                )
            if exp.model and table_exists(con, PREDICTIONS):
                _run(con, "scores", {"experiment": exp.name, "model": exp.model, "day": day})
        if table_exists(con, CONVERSIONS):
            _run(con, "rates", {"day": day, "window_days": config.conversions.window_days})
    with transaction(con):
        con.execute(f"DELETE FROM {RESULTS} WHERE date = $day", {"day": day})
        _run(con, "decide", {"day": day})
    for t in ("_exp", "_cand", "_rates", "_scores", "_people"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return con.execute(f"SELECT count(*) FROM {RESULTS} WHERE date = $day", {"day": day}).fetchall()[0][0]
