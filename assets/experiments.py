"""Experiment assets: nightly `results`, `conversions` in their windows, and the `experiment_report`.

The definitions only: what a run does is in pipeline/experiments/runs.py.
"""

import dagster as dg

from pipeline.config import ProjectConfig
from pipeline.core.partitions import days_in
from pipeline.core.warehouse import POOL, WarehouseResource
from pipeline.experiments.decisions import CONVERSIONS, RESULTS
from pipeline.experiments.policy_evaluation import POLICY_EVALUATION, run_policy_evaluation
from pipeline.experiments.report import EXPERIMENT_REPORT
from pipeline.experiments.runs import (
    conversions_deps,
    results_deps,
    run_conversions,
    run_report,
    run_results,
)

GROUP = "experiments"


def build_results_asset(config: ProjectConfig, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name=RESULTS,
        group_name=GROUP,
        deps=[dg.AssetKey(d) for d in results_deps(config)],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        kinds={"duckdb"},
        description="The nightly decisions: for each enabled experiment, each qualifying customer's variant "
        "(or control) for the day after the partition's (the presentation date, the rows' `date`), with the "
        "score and the reason. Made from the data up to the partition's day; re-runs give the same rows "
        "(see pipeline/experiments/decisions.py).",
    )
    def _results(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            metadata = run_results(con, config, days_in(context.partition_time_window), context.log.info)
        return dg.MaterializeResult(metadata=metadata)

    return _results


def build_conversions_asset(
    config: ProjectConfig, partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    window_days = config.conversions.window_days

    @dg.asset(
        name=CONVERSIONS,
        group_name=GROUP,
        partitions_def=partitions,
        deps=[dg.AssetKey(d) for d in conversions_deps(config)],
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=POOL,
        kinds={"duckdb"},
        description=f"Per presentation (a results row), the conversions in its {window_days}-day window and "
        f"whether the window is complete. A run for day D also recomputes the {window_days - 1} presentation "
        "days before D (their windows were still open), so the nightly job refreshes the last "
        f"{window_days} partitions.",
    )
    def _conversions(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            run = run_conversions(con, config, days_in(context.partition_time_window), context.log.info)
        for event in run.refreshed:
            context.log_event(event)
        return dg.MaterializeResult(metadata=run.metadata)

    return _conversions


class ReportConfig(dg.Config):
    # also count presentations whose window is still open (the report says so)
    include_incomplete: bool = False


def build_report_asset(project: ProjectConfig) -> dg.AssetsDefinition:
    @dg.asset(
        name=EXPERIMENT_REPORT,
        group_name=GROUP,
        deps=[dg.AssetKey(CONVERSIONS)],
        pool=POOL,
        kinds={"duckdb"},
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="Per experiment, metric (primary and guardrails) and variant: presented, converted, "
        "rate, value per presented customer, lift against control with its interval and p-value (Welch; "
        "relative by the delta method), always-valid (sequential), CUPED-adjusted and Bayesian results, "
        "corrections across variants x metrics, guardrail failures and a sample-ratio-mismatch test; "
        "totals and cumulative by presentation date. Complete windows only by default. Rebuilt whole on "
        "every run.",
    )
    def _report(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: ReportConfig
    ) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            metadata = run_report(con, project, config.include_incomplete)
        return dg.MaterializeResult(metadata=metadata)

    return _report


def build_policy_evaluation_asset(project: ProjectConfig) -> dg.AssetsDefinition:
    @dg.asset(
        name=POLICY_EVALUATION,
        group_name=GROUP,
        deps=[dg.AssetKey(CONVERSIONS)],
        pool=POOL,
        kinds={"duckdb"},
        backfill_policy=dg.BackfillPolicy.single_run(),
        description="Off-policy evaluation per experiment: the conversion rate per decision each policy "
        "(nothing, uniform, propensity, uplift, thompson) would reach, by inverse propensity scoring and "
        "doubly robust estimates with 95% intervals, and its incremental conversions against sending "
        "nothing, from the logged decisions (assignment_probability) with complete windows. Rebuilt whole "
        "on every run (see pipeline/experiments/policy_evaluation.py).",
    )
    def _policy_evaluation(warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            metadata = run_policy_evaluation(con, project)
        return dg.MaterializeResult(metadata=metadata)

    return _policy_evaluation


def build_experiment_assets(
    config: ProjectConfig, partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    return [
        build_results_asset(config, partitions),
        build_conversions_asset(config, partitions),
        build_report_asset(config),
        build_policy_evaluation_asset(config),
    ]
