"""The experiment report: per experiment and variant, over all presentation dates and
cumulatively date by date, the rates, values and lifts against control (pipeline/experiments/stats.py).

Only presentations whose window is complete count, unless ``include_incomplete`` (then the
``windows`` column says so and ``in_progress`` counts them). The statistics run per customer, the
unit of randomisation (pipeline/experiments/stats.py ``ratio``), over sums that SQL aggregates per
experiment, metric, variant and date (sql/experiments/report_counts.sql: increments whose running
sums are the sums over customers up to each date), never over customer rows here. A variant is the
arm drawn (intent to treat): the customers a capacity cut to ``no_treatment`` count in the variant
they were drawn, since the cut takes the lowest expected values, not a random part of the arm
(``capped`` counts them), so a capped variant's lift is that of being drawn to it under its limit.
The sample-ratio check over the customers held out and treated (control is drawn per customer),
counted in SQL by the date of their first presentation (sql/experiments/srm_customers.sql), each
expected in control with the share their side was drawn with (results.control_share: a share changed
mid-experiment splits only the customers new to it).

**The control a variant is compared with** (``comparison``). Under the ``uniform`` policy every
customer has the same chance of each variant, so a variant's customers are comparable with the whole
control group (all of it: the most power). A learned policy (``thompson``, ``propensity``,
``uplift``) gives each customer their own chances, moving from night to night, so the customers
drawn to a variant are not a random part of the experiment (uplift sends the larger discount to
those it predicts to respond): against the whole control group a variant without effect showed a
lift. The policy draws a variant for the control customers too (before the hold-out), recorded in
results.held_out_variant; a learned policy's variant is compared with the control customers drawn
that same variant (**matched control**, sql/experiments/report_counts.sql): both are the customers
the policy drew to it, split by the control hash alone, so the lift is the variant's effect on the
customers the policy gives it. Each treated row's sample-ratio check is then that split (its
customers and its matched control's against their shares). An experiment of a learned policy
whose control rows were decided before the draw was recorded falls back to the whole control group,
and says so.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from pipeline.core.sql import bind, sql
from pipeline.core.warehouse import EXACT_SUM_LIMIT, scalar, table_exists, transaction
from pipeline.experiments import stats
from pipeline.experiments.bayesian import posterior
from pipeline.experiments.config import PRIMARY, AnalysisSpec, ExperimentsConfig
from pipeline.experiments.conversions import GUARDRAIL_CONVERSIONS, record_drawn_variants
from pipeline.experiments.corrections import adjust
from pipeline.experiments.cuped import Paired, cuped
from pipeline.experiments.decisions import CONVERSIONS, RESULTS

EXPERIMENT_REPORT = "experiment_report"
COMPLETE, INCLUDING = "complete windows only", "including in-progress windows"
# the control a treated variant is compared with (the column `comparison`)
WHOLE, MATCHED = "whole control", "matched control"
UNRECORDED = "whole control (control draws not recorded)"  # a learned policy's rows decided before


def _nan(v: float | None) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


@dataclass(frozen=True)
class Counts:
    """One variant's presentations over a span of dates, per customer (the unit of randomisation,
    sql/experiments/report_counts.sql): the customers, the sums over them of each one's
    presentations m, converted presentations d and value v, of their squares and products, and of
    the CUPED covariate x (the customer's pre-period conversion) and its products."""

    variant: str
    is_control: bool
    control_of: str  # a control row: '' the whole control group, else the variant drawn (matched control)
    from_date: dt.date
    presented: int  # sum m
    converted: int  # sum d
    value_sum: float  # sum v
    in_progress: int
    capped: int  # presentations of the arm drawn that a capacity cut to no_treatment (sent nothing)
    undrawn: int  # control presentations of a learned policy without a recorded draw
    customers: int
    presented_sq: int  # sum m^2
    converted_sq: int  # sum d^2
    presented_converted: int  # sum m d
    value_sq: float  # sum v^2
    presented_value: float  # sum m v
    pre_converted: int  # sum x: customers with a pre-period conversion (the CUPED covariate)
    pre_and_converted: int  # sum x d
    pre_and_presented: int  # sum x m

    @classmethod
    def of(cls, row: Mapping[Hashable, Any]) -> Counts:
        """From one row of a frame of totals (numpy scalars become Python numbers, exactly)."""
        sums: dict[str, Any] = {f: int(row[f]) for f in INTEGERS}
        sums |= {f: float(row[f]) for f in SUMMED if f not in INTEGERS}
        return cls(
            variant=str(row["variant"]),
            is_control=bool(row["is_control"]),
            control_of=str(row["control_of"]),
            from_date=row["from_date"],
            **sums,
        )

    @property
    def conversions(self) -> stats.Ratio:
        """Per customer: presentations m and converted presentations d."""
        m, d = self.presented, self.converted
        return stats.Ratio(
            self.customers, m, self.presented_sq, d, self.converted_sq, self.presented_converted
        )

    @property
    def rate(self) -> stats.Sample:
        """The conversion rate per presentation over the customers (population moments: p(1 - p) when
        every customer has one presentation)."""
        return stats.ratio(self.conversions)

    @property
    def value(self) -> stats.Sample:
        """The value per presentation over the customers (sample moments, ddof 1: the sample variance
        when every customer has one presentation)."""
        m, v = self.presented, self.value_sum
        return stats.ratio(
            stats.Ratio(self.customers, m, self.presented_sq, v, self.value_sq, self.presented_value), ddof=1
        )

    @property
    def paired(self) -> Paired:
        """The conversions with the customers' 0/1 pre-period covariate, for CUPED."""
        x = self.pre_converted
        return Paired(self.conversions, x, x, self.pre_and_converted, self.pre_and_presented)

    @property
    def mean(self) -> float:
        """Value per presentation."""
        return self.value_sum / self.presented


def _lifts(r: Counts, c: Counts, spec: AnalysisSpec) -> dict[str, object]:
    """The lifts of a treated variant against control: rate (absolute, relative; fixed-horizon and
    sequential) and value."""
    b, a = r.rate, c.rate
    alpha, tuning = spec.alpha, spec.sequential_tuning
    ab, rel = stats.lift(b, a, alpha=alpha), stats.lift(b, a, relative=True, alpha=alpha)
    seq = stats.sequential(b, a, alpha=alpha, tuning=tuning)
    seq_rel = stats.sequential(b, a, relative=True, alpha=alpha, tuning=tuning)
    val = stats.lift(r.value, c.value, alpha=alpha)
    adj_b, adj_a, theta = cuped(r.paired, c.paired)
    cab, crel = stats.lift(adj_b, adj_a, alpha=alpha), stats.lift(adj_b, adj_a, relative=True, alpha=alpha)
    var, adj_var = stats.estimate(b, a)[1], stats.estimate(adj_b, adj_a)[1]
    bayes = posterior(b, a, relative=True, alpha=alpha)
    return dict(
        cuped_abs_lift=cab.lift,
        cuped_abs_lift_low=cab.low,
        cuped_abs_lift_high=cab.high,
        cuped_p_value=cab.p_value,
        cuped_rel_lift=crel.lift,
        cuped_rel_lift_low=crel.low,
        cuped_rel_lift_high=crel.high,
        cuped_variance_reduction=1 - adj_var / var if var > 0 else stats.NAN,
        cuped_theta=theta,
        chance_to_beat_control=bayes.chance_to_beat_control,
        expected_loss=bayes.loss_variant,
        credible_low=bayes.low,
        credible_high=bayes.high,
        abs_lift=ab.lift,
        abs_lift_low=ab.low,
        abs_lift_high=ab.high,
        rel_lift=rel.lift,
        rel_lift_low=rel.low,
        rel_lift_high=rel.high,
        p_value=ab.p_value,
        significant=bool(ab.p_value < alpha),
        value_lift=val.lift,
        value_lift_low=val.low,
        value_lift_high=val.high,
        value_p_value=val.p_value,
        rel_p_value=rel.p_value,
        seq_abs_lift_low=seq.low,
        seq_abs_lift_high=seq.high,
        seq_p_value=seq.p_value,
        seq_rel_lift_low=seq_rel.low,
        seq_rel_lift_high=seq_rel.high,
        seq_rel_p_value=seq_rel.p_value,
    )


def _correct(rows: list[dict[str, object]], spec: AnalysisSpec) -> None:
    """``p_value_adjusted`` and ``significant_adjusted`` of one experiment's treated variants x metrics
    at one date, corrected together (``analysis.correction``)."""
    treated = [r for r in rows if "p_value" in r]
    adjusted = adjust([float(r["p_value"]) for r in treated], spec.correction)  # type: ignore[arg-type]
    for r, p in zip(treated, adjusted, strict=True):
        r.update(p_value_adjusted=p, significant_adjusted=bool(p < spec.alpha))


def _worse(row: Mapping[str, object], worse: str) -> bool:
    """A guardrail's treated row moved significantly the ``worse`` way (its unadjusted test: a
    guardrail errs on the side of raising the alarm)."""
    lift = row.get("abs_lift")
    if not row.get("significant") or not isinstance(lift, float):
        return False
    return lift > 0 if worse == "increase" else lift < 0


@dataclass(frozen=True)
class Split:
    """Customers held out and treated, and the expected held out: the sums over the customers of the
    share s their side was drawn with (``expected``) and of s (1 - s) (``variance``)."""

    control: int = 0
    treated: int = 0
    expected: float = 0.0
    variance: float = 0.0

    @property
    def srm(self) -> stats.Srm:
        return stats.srm_drawn(self.control, self.expected, self.variance)


def _splits(customers: pd.DataFrame, experiment: str, to_date: object, share: float) -> dict[str, Split]:
    """Per arm ('' the experiment's; a learned policy's: each matched comparison's), the split of the
    customers of ``experiment`` whose first counted presentation in it is on or before ``to_date``
    (``customers``: sql/experiments/srm_customers.sql; a NULL share: ``share``, the experiment's)."""
    if not len(customers):
        return {}
    seen = customers[
        (customers["experiment"] == experiment)
        & (pd.to_datetime(customers["date"]) <= pd.Timestamp(str(to_date)))
    ]
    n = seen["customers"].astype(int)
    s = seen["control_share"].astype(float).fillna(share)
    held_out = seen["is_control"].astype(bool)
    sums = (
        pd.DataFrame(
            {
                "arm": seen["arm"],
                "control": n.where(held_out, 0),
                "treated": n.where(~held_out, 0),
                "expected": n * s,
                "variance": n * s * (1 - s),
            }
        )
        .groupby("arm")[["control", "treated", "expected", "variance"]]
        .sum()
    )
    arms = zip(sums.index, *(sums[c] for c in ("control", "treated", "expected", "variance")), strict=True)
    return {str(arm): Split(int(c), int(t), float(e), float(v)) for arm, c, t, e, v in arms}


def learned(config: ExperimentsConfig) -> list[str]:
    """The experiments of a learned policy (each customer their own chances of the variants)."""
    return [e.name for e in config.experiments if e.policy != "uniform"]


def comparisons(total: pd.DataFrame, config: ExperimentsConfig) -> dict[str, str]:
    """Per experiment of ``total`` (the counts over every date), the control its variants are compared
    with: the matched control for a learned policy whose control rows all have their draw recorded, the
    whole control group otherwise (UNRECORDED: a learned policy's rows decided before the record)."""
    undrawn = total.groupby("experiment")["undrawn"].sum()
    policies = set(learned(config))
    return {str(e): (UNRECORDED if n else MATCHED) if e in policies else WHOLE for e, n in undrawn.items()}


def _control(variants: list[Counts], r: Counts, comparison: str) -> Counts | None:
    """The control ``r`` (a treated variant) is compared with: its matched control (None when no
    control customer was drawn to it), else the whole control group."""
    of = r.variant if comparison == MATCHED else ""
    return next((c for c in variants if c.is_control and c.control_of == of), None)


def _metric_rows(
    variants: list[Counts],
    config: ExperimentsConfig,
    keys: dict[str, object],
    splits: Mapping[str, Split],
    comparison: str = WHOLE,
) -> list[dict]:
    """The rows of one metric of an experiment at one date: a variant each (the whole control group's,
    not the matched controls'), treated ones with lifts against their ``comparison``; ``splits``: the
    customers held out and treated, for the sample-ratio check (:func:`_splits`; a matched comparison:
    each treated row's own split, its customers and its matched control's)."""
    experiment_srm = splits.get("", Split()).srm
    rows: list[dict[str, object]] = []
    for r in variants:
        if r.is_control and r.control_of:
            continue  # a matched control: on its variant's row
        c = None if r.is_control else _control(variants, r, comparison)
        matched = comparison == MATCHED and not r.is_control
        s = splits.get(r.variant, Split()).srm if matched else experiment_srm
        row: dict[str, object] = dict(
            keys,
            variant=r.variant,
            is_control=r.is_control,
            from_date=r.from_date,
            presented=r.presented,
            customers=r.customers,
            converted=r.converted,
            pre_converted=r.pre_converted,
            conversion_rate=r.converted / r.presented,
            value_per_presented=r.mean,
            in_progress=r.in_progress,
            capped=r.capped,
            srm_chi2=_nan(s.chi2),
            srm_p_value=_nan(s.p_value),
            srm_mismatch=s.mismatch,
        )
        if not r.is_control:
            row.update(
                comparison=comparison,
                control_customers=c.customers if c else 0,
                control_rate=c.converted / c.presented if c and c.presented else None,
            )
        if c is not None:
            row.update(_lifts(r, c, config.analysis))
        rows.append(row)
    return rows


def _rows(
    frame: pd.DataFrame,
    config: ExperimentsConfig,
    scope: str,
    windows: str,
    customers: pd.DataFrame,
    compared: Mapping[str, str] | None = None,
) -> list[dict]:
    """Report rows of one scope: ``frame`` has one row per (experiment, metric, variant, control_of,
    to_date) with totals; ``customers`` the customers by first presentation (the sample-ratio check's
    split up to each to_date); ``compared`` the control each experiment's variants are compared with
    (:func:`comparisons`). An experiment's treated variants x metrics at a date are corrected together;
    a guardrail moving significantly the worse way marks all its rows ``guardrail_failed``."""
    out = []
    for (exp, to_date), part in frame.groupby(["experiment", "to_date"], sort=True):
        name = str(exp)
        worse = {d.name: d.worse for d in config.guardrails(name)}
        known = any(e.name == name for e in config.experiments)
        splits = _splits(customers, name, to_date, config.experiment(name).control_share if known else 0)
        rows: list[dict[str, object]] = []
        for metric, metric_part in part.groupby("metric", sort=True):
            keys: dict[str, object] = dict(
                experiment=name, metric=str(metric), scope=scope, to_date=to_date, windows=windows
            )
            # one per variant: a handful per date, not customers
            counts = [Counts.of(r) for r in metric_part.to_dict("records")]
            rows += _metric_rows(counts, config, keys, splits, (compared or {}).get(name, WHOLE))
        _correct(rows, config.analysis)
        failed = any(_worse(r, worse[str(r["metric"])]) for r in rows if str(r["metric"]) in worse)
        out += [
            {
                k: _nan(v) if isinstance(v, float) else v
                for k, v in {**row, "guardrail_failed": failed}.items()
            }
            for row in rows
        ]
    return out


INTEGERS = (
    "presented",
    "converted",
    "in_progress",
    "capped",
    "undrawn",
    "customers",
    "presented_sq",
    "converted_sq",
    "presented_converted",
    "pre_converted",
    "pre_and_converted",
    "pre_and_presented",
)
# the columns of sql/experiments/report_counts.sql summed over dates: each date's increments, so the
# running sums are the sums over customers of their counts (and squares, products) up to each date
SUMMED = (*INTEGERS, "value_sum", "value_sq", "presented_value")


# a variant's counts of one metric (control_of: a control row's '' whole group, or the matched variant)
KEYS = ["experiment", "metric", "variant", "is_control", "control_of"]


def _cumulative(daily: pd.DataFrame) -> pd.DataFrame:
    """The running totals of each variant and metric at every presentation date of its experiment
    from the variant's first date on (``from_date`` the experiment's first date): on a date without
    presentations of the variant its totals carry over, so every date compares all the variants."""
    summed = list(SUMMED)
    running = daily.sort_values([*KEYS, "date"]).reset_index(drop=True)
    running[summed] = running.groupby(KEYS)[summed].cumsum()
    firsts = running.groupby(KEYS, as_index=False).agg(first=("date", "min"))
    grid = firsts.merge(daily[["experiment", "date"]].drop_duplicates(), on="experiment")
    grid = grid[grid["date"] >= grid["first"]].drop(columns="first")
    cum = grid.merge(running, on=[*KEYS, "date"], how="left").sort_values([*KEYS, "date"])
    cum[summed] = cum.groupby(KEYS)[summed].ffill().astype(daily[summed].dtypes.to_dict())
    cum["from_date"] = cum.groupby("experiment")["date"].transform("min")
    return cum.rename(columns={"date": "to_date"})


def _counts(
    con: duckdb.DuckDBPyConnection, table: str, include_incomplete: bool, policies: list[str] | None = None
) -> pd.DataFrame:
    """The daily counts of one conversions table (none when it does not exist); the control rows of
    the experiments ``policies`` (of a learned policy) also by the variant drawn for them."""
    if not table_exists(con, table):
        return pd.DataFrame()
    metric = "metric" if table == GUARDRAIL_CONVERSIONS else "$primary"
    # the draws recorded for the control rows, a subquery (none without results)
    draws = sql("experiments/control_draws" if table_exists(con, RESULTS) else "experiments/no_control_draws")
    draws = f"(\n{draws})"
    # the values' exact sums, taken apart (slower) where the table's values could add up to 1e20
    wide = float(scalar(con, sql("core/value_bound", idents={"table": table}))) >= EXACT_SUM_LIMIT
    summed = "experiments/value_sum_wide" if wide else "experiments/value_sum"
    text = sql(
        "experiments/report_counts",
        idents={"table": table},
        fragments={
            "metric_expr": metric,
            "draws": draws,
            "running_value": sql(summed, fragments={"value": "p.value", "over": " OVER w"}),
            "summed_values": sql(summed, fragments={"value": "value", "over": ""}),
        },
    )
    values = {"include_incomplete": include_incomplete, "primary": PRIMARY, "learned": policies or []}
    return con.execute(text, bind(text, values)).df()


def _srm_customers(
    con: duckdb.DuckDBPyConnection, include_incomplete: bool, policies: list[str]
) -> pd.DataFrame:
    """The customers of the sample-ratio checks (sql/experiments/srm_customers.sql), the learned
    policies' experiments (``policies``) also per arm, with the shares their sides were drawn with."""
    shares = "decision_shares" if table_exists(con, RESULTS) else "no_decision_shares"
    text = sql("experiments/srm_customers", fragments={"decisions": f"(\n{sql('experiments/' + shares)})"})
    return con.execute(text, bind(text, {"include_incomplete": include_incomplete, "learned": policies})).df()


def build_report(
    con: duckdb.DuckDBPyConnection, config: ExperimentsConfig, include_incomplete: bool = False
) -> int:
    """Rebuild `experiment_report` whole from `conversions`; returns its rows."""
    windows = INCLUDING if include_incomplete else COMPLETE
    rows: list[dict] = []
    if table_exists(con, CONVERSIONS):
        record_drawn_variants(con)  # rows written before drawn_variant existed
        policies = learned(config)
        frames = [_counts(con, t, include_incomplete, policies) for t in (CONVERSIONS, GUARDRAIL_CONVERSIONS)]
        daily = pd.concat([f for f in frames if len(f)]) if any(len(f) for f in frames) else pd.DataFrame()
        if len(daily):
            total = daily.groupby(KEYS, as_index=False).agg(
                **{col: (col, "sum") for col in SUMMED},
                from_date=("date", "min"),
                to_date=("date", "max"),
            )
            last = total.groupby("experiment")["to_date"].transform("max")
            total["to_date"] = last
            total["from_date"] = total.groupby("experiment")["from_date"].transform("min")
            customers = _srm_customers(con, include_incomplete, policies)
            compared = comparisons(total, config)
            rows = _rows(total, config, "total", windows, customers, compared) + _rows(
                _cumulative(daily), config, "cumulative", windows, customers, compared
            )
    with transaction(con):
        con.execute(sql("experiments/clear_report"))
        con.execute(sql("experiments/create_experiment_report"))
        columns = [c[0] for c in con.execute(sql("experiments/report_columns")).description]
        frame = pd.DataFrame(rows, columns=columns)
        if len(frame):
            con.register("_report_rows", frame)
            con.execute(sql("experiments/insert_report"))
            con.unregister("_report_rows")
    return len(frame)


def report_table(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[tuple]]:
    """The report totals as (headers, rows) for a Markdown table."""
    cur = con.execute(sql("experiments/report_table"))
    headers = [
        "experiment",
        "metric",
        "variant",
        "presented",
        "capped",
        "converted",
        "rate",
        "compared with",
        "abs lift",
        "95% interval",
        "rel lift",
        "p",
        "p adjusted",
        "CUPED lift",
        "CUPED interval",
        "variance reduction",
        "P(beat control)",
        "value lift",
        "value p",
        "SRM p",
        "SRM",
        "guardrail failed",
        "windows",
    ]
    return headers, cur.fetchall()
