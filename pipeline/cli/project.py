"""`nightjar validate | demo | backfill | recover`: the project as a whole."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.cli.common import (
    dagster_home_problem,
    date_arg,
    folder_problem,
    project_config,
    project_options,
)
from pipeline.config import ProjectConfig, load_config
from pipeline.core.resources import example_config
from pipeline.core.settings import ConfigError
from pipeline.ingest.sources.local_files import LocalFilesSource

if TYPE_CHECKING:  # dagster loads in a second or two: only when a command runs the graph
    from dagster import JobDefinition


def run_backfill(
    config: ProjectConfig,
    first: dt.date,
    last: dt.date,
    warehouse: Path | None = None,
    steps: dict[str, float] | None = None,
    verbose: bool = False,
    job: JobDefinition | None = None,
) -> bool:
    """Materialize every asset for the days first..last as ONE run (single-run backfill), printing its
    progress (``verbose``: and Dagster's own log lines). ``steps``, when given, receives each successful
    step's duration in seconds (the benchmark's breakdown); ``job``: the nightly job of ``config``
    already built (:func:`nightly_job`; the demo's closed loop runs it night after night)."""
    from pipeline.ops.progress import Progress, Ticker, printer

    progress = Progress(days=(last - first).days + 1, print_line=printer())
    progress.say(f"[progress] loading the project's assets for {first}..{last}")
    with Ticker(progress):  # from here to the end of the run
        from pipeline.ops.backfill import run_range

        job = job or nightly_job(config, warehouse)
        return run_range(job, first, last, steps, verbose=verbose, progress=progress)


def nightly_job(config: ProjectConfig, warehouse: Path | None = None) -> JobDefinition:
    """The nightly job over every asset of the project."""
    from pipeline.definitions import build_definitions
    from pipeline.ops.jobs import NIGHTLY

    return build_definitions(config, warehouse).resolve_job_def(NIGHTLY)


def summary(warehouse: Path, ok: bool = True) -> str:
    """Rows per table and rejects by reason, as plain text; ``ok``: whether the run succeeded (a
    failed run never ends on a reassuring "Failed loads: 0")."""
    from pipeline.core.metadata import markdown_table
    from pipeline.core.sql import sql
    from pipeline.core.warehouse import connect, scalar

    if not warehouse.exists():
        return (
            f"The run wrote nothing: the warehouse {warehouse} does not exist (see the failed steps above)."
        )
    with connect(warehouse, read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
            ).fetchall()
        ]
        counts = [(t, scalar(con, sql("core/row_count", idents={"table": t}))) for t in tables]
        rejects = con.execute(sql("ingest/rejects_summary")).fetchall()
        failed = scalar(con, "SELECT count(*) FROM loads WHERE status = 'FAILED'")
    return "\n\n".join(
        [
            "Rows per table:\n" + markdown_table(["table", "rows"], counts),
            "Rejected rows by reason:\n" + markdown_table(["dataset", "field", "rows", "example"], rejects),
            f"Failed loads: {failed}"
            + (
                ""
                if ok
                else "; the run FAILED: its failed steps are listed above, and their days are not done"
            ),
        ]
    )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config_file)
    except ConfigError as e:
        print(e, file=sys.stderr)
        print(f"{len(e.problems)} problem(s) in {e.file}", file=sys.stderr)
        return 1
    for s in config.sources:
        if isinstance(s, LocalFilesSource) and not config.resolve(s.folder).is_dir():
            print(
                f"warning: {args.config_file}: source {s.name!r}: "
                f"folder {config.resolve(s.folder)} does not exist yet"
            )
    from pipeline.ingest.validate import check_remote_sources

    remote_errors, remote_notes = check_remote_sources(config)
    for note in remote_notes:
        print(f"{args.config_file}: {note}")
    if remote_errors:
        print("\n".join(f"{args.config_file}: {e}" for e in remote_errors), file=sys.stderr)
        return 1
    print(
        f"{args.config_file}: OK ({len(config.sources)} source(s), "
        f"{len(config.transactions)} transaction(s), "
        f"customers: {'yes' if config.customers else 'no'}; warehouse {config.warehouse_path})"
    )
    return 0


def write_demo_config(out: Path, start: dt.date, nights: int | None = None) -> Path:
    """Copy the example config (comments and all) into ``out`` with the demo's start date; ``nights``:
    the experiments end after that many nights of the closed loop (default: as in the example)."""
    text = example_config().read_text(encoding="utf-8")
    found = re.search(r"^start_date: (\S+)", text, flags=re.M)
    if found is None:
        raise ValueError(f"{example_config()}: no top-level start_date")
    example_start = dt.date.fromisoformat(found.group(1))
    text = re.sub(r"^start_date: .*$", f"start_date: {start.isoformat()}", text, count=1, flags=re.M)
    # experiments' start/end dates keep their distance to the first day
    text = re.sub(
        r"^(\s+(?:start|end): )(\d{4}-\d{2}-\d{2})",
        lambda m: m.group(1) + (dt.date.fromisoformat(m.group(2)) + (start - example_start)).isoformat(),
        text,
        flags=re.M,
    )
    starts = [
        dt.date.fromisoformat(d) for d in re.findall(r"^\s+start: (\d{4}-\d{2}-\d{2})", text, flags=re.M)
    ]
    if nights is not None and starts:
        last = min(starts) + dt.timedelta(days=nights - 1)
        text = re.sub(
            r"^(\s+end: )(\d{4}-\d{2}-\d{2})",
            lambda m: m.group(1) + min(dt.date.fromisoformat(m.group(2)), last).isoformat(),
            text,
            flags=re.M,
        )
    path = out / "nightjar.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def loop_nights(config: ProjectConfig, first: dt.date, last: dt.date) -> list[dt.date]:
    """The days after ``first`` up to ``last`` on which a dated experiment of the config presents decisions
    (each decided by the nightly run of the night before)."""
    dated = [e for e in config.experiments if e.enabled and e.start]
    days = [first + dt.timedelta(days=k) for k in range(1, (last - first).days + 1)]
    return [d for d in days if any(e.start and e.start <= d and (e.end is None or d <= e.end) for e in dated)]


def cmd_demo(args: argparse.Namespace) -> int:
    from pipeline.demo import generate_world

    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    if args.customers < 1 or args.days < 1 or (args.nights is not None and args.nights < 1):
        print("--customers, --days and --nights must be at least 1", file=sys.stderr)
        return 2
    if args.start and args.start + dt.timedelta(days=args.days - 1) > yesterday:
        print(
            f"the demo's last day must be a complete day: with --days {args.days}, --start may be "
            f"{yesterday - dt.timedelta(days=args.days - 1)} at the latest",
            file=sys.stderr,
        )
        return 2
    if problem := dagster_home_problem():
        print(problem, file=sys.stderr)
        return 1
    if problem := folder_problem("--out", args.out):
        print(problem, file=sys.stderr)
        return 1
    began = time.monotonic()
    out = Path(args.out).resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # a file of that name, a folder that cannot be written
        print(f"--out {args.out}: cannot create the demo folder there ({e.strerror})", file=sys.stderr)
        return 1
    for stale in ("files", "truth"):
        shutil.rmtree(out / stale, ignore_errors=True)
    print(f"[1/3] generating the demo world: {args.customers} customers, {args.days} days -> {out}")
    world = generate_world(
        out,
        customers=args.customers,
        days=args.days,
        start=args.start,
        seed=args.seed,
        progress=lambda msg: print(f"      {msg}", flush=True),
    )
    config_path = write_demo_config(out, world.start, args.nights)
    config = load_config(config_path)
    for suffix in ("", ".wal"):
        Path(str(config.warehouse_path) + suffix).unlink(missing_ok=True)
    verbose = getattr(args, "verbose", False)
    # the experiments' closed loop (pipeline/demo/experiments.py) runs on the local files only
    nights = [] if getattr(args, "via", None) else loop_nights(config, world.start, world.end)
    if getattr(args, "via", None):  # ingest through a local SFTP server / GCS emulator
        from pipeline.demo.via import serve

        landing = config.source("landing")
        if not isinstance(landing, LocalFilesSource):
            raise ValueError(f"{config_path}: --via serves the files of the local source `landing`")
        with serve(args.via, config_path, config.resolve(landing.folder)) as via_path:
            print(
                f"[2/3] serving the transaction files over {args.via} ({via_path.name}); "
                f"materializing every asset for {world.start}..{world.end} as one backfill run"
            )
            ok = run_backfill(load_config(via_path), world.start, world.end, verbose=verbose)
    elif nights:  # the closed loop of pipeline/demo/experiments.py, one nightly run per night
        from pipeline.demo.experiments import seed_history, simulate_responses
        from pipeline.experiments.decisions import presentation_day

        seed_history(out, nights[0], world.start, seed=args.seed)  # the pre-period purchases CUPED adjusts by
        # the run of the night before a presentation day decides it (results: presented the day after
        # the night); the eve's run also trains the models (a range trains its last day) and scores that
        # day, so the first decisions carry their scores (results read the night's predictions)
        eve = nights[0] - dt.timedelta(days=1)
        print(
            f"[2/3] materializing every asset for {world.start}..{eve} as one run (the models of {eve}, "
            f"the decisions of {nights[0]})"
        )
        ok = run_backfill(config, world.start, eve, verbose=verbose)
        print(
            f"      the closed loop: {len(nights)} nights, {nights[0]}..{nights[-1]}, each decided by "
            "a nightly run of the night before"
        )
        job = nightly_job(config)
        policies = {e.name: e.policy for e in config.experiments}  # a learned policy's true lifts differ
        done = eve  # the last night run
        for day in nights:
            if day > presentation_day(done):  # the nights up to the one before ``day`` (one run)
                first, last = presentation_day(done), day - dt.timedelta(days=1)
                ok = run_backfill(config, first, last, verbose=verbose, job=job) and ok
                done = day - dt.timedelta(days=1)
            truth = simulate_responses(
                config.warehouse_path,
                out,
                day,
                world.end,
                config.conversions.window_days,
                seed=args.seed,
                policies=policies,
            )
            print(
                f"      {day}: {truth['nights'][-1]['decisions']} decisions; the world responded with "
                f"{truth['nights'][-1]['responses_appended_to_pos']} purchases in the pos files of its window"
            )
        if done < world.end:
            rest = presentation_day(done)
            print(f"      materializing {rest}..{world.end} as one run (the windows close)")
            ok = run_backfill(config, rest, world.end, verbose=verbose, job=job) and ok
    else:
        print(f"[2/3] materializing every asset for {world.start}..{world.end} as one backfill run")
        ok = run_backfill(config, world.start, world.end, verbose=verbose)
    print("[3/3] summary\n")
    print(summary(config.warehouse_path, ok))
    from pipeline.cli.findings import findings
    from pipeline.core.warehouse import published_folder

    published = published_folder(config.warehouse_path)
    print("\n" + findings(published, out / "truth"))
    if nights:
        from pipeline.demo.experiments import decision_summary

        policies = {e.name: e.policy for e in config.experiments}
        print("\n" + decision_summary(config.warehouse_path, truth, policies))
    print(
        f"\nElapsed {time.monotonic() - began:.1f} s, peak memory {_peak_mb():.0f} MB."
        f"\nConfig:    {config_path}\nWarehouse: {config.warehouse_path}\nTruth:     {out / 'truth'}"
        f"\nSnapshot:  {published / 'current' / 'snapshot.duckdb'} (read this one, not the warehouse)"
        f"\nReport:    {published.parent / 'reports' / 'index.html'}"
        f"\nAPI:       NIGHTJAR_API_KEYS=some-key .venv/bin/nightjar serve --config {config_path}"
        f"\nWhy a score: .venv/bin/nightjar explain --model MODEL --customer ID --config {config_path}"
        f"\nChannels:  .venv/bin/nightjar attribution summary --config {config_path}"
        f"\nOpen the UI with `make dev` "
        f"(or: NIGHTJAR_CONFIG={config_path} .venv/bin/dagster dev -w workspace.yaml)"
    )
    return 0 if ok else 1


def cmd_backfill(args: argparse.Namespace) -> int:
    from pipeline.ops.backfill import check_range

    config = project_config(args)
    problem = check_range(config.start_date, getattr(args, "from"), args.to)
    if problem:
        print(f"nothing to backfill: {problem}", file=sys.stderr)
        return 2
    if problem := dagster_home_problem():
        print(problem, file=sys.stderr)
        return 1
    ok = run_backfill(
        config,
        getattr(args, "from"),
        args.to,
        Path(args.warehouse) if args.warehouse else None,
        verbose=getattr(args, "verbose", False),
    )
    print(summary(Path(args.warehouse) if args.warehouse else config.warehouse_path, ok))
    return 0 if ok else 1


def cmd_recover(args: argparse.Namespace) -> int:
    import dagster as dg

    from pipeline.ops.recover import recover

    if not os.environ.get("DAGSTER_HOME"):
        print("DAGSTER_HOME is not set: there is no Dagster instance to recover", file=sys.stderr)
        return 1
    if problem := dagster_home_problem():
        print(problem, file=sys.stderr)
        return 1
    with dg.DagsterInstance.get() as instance:
        run_ids = recover(instance, dry_run=args.dry_run)
    verb = "would mark" if args.dry_run else "marked"
    for run_id in run_ids:
        print(f"{verb} run {run_id} FAILURE (its process is gone) and free its pool slots")
    print(f"{len(run_ids)} dead run(s)")
    return 0


def verbose_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also print Dagster's own log lines (default: progress only)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a project config before anything runs")
    p.add_argument("config_file", help="the project YAML")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("demo", help="generate the demo world and run the whole graph over it")
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--days", type=int, default=17)
    p.add_argument("--start", type=date_arg, default=None, help="first day (default: DAYS days before today)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--nights",
        type=int,
        default=None,
        help="nights of the experiments' closed loop (default: as many as the example's experiments run)",
    )
    p.add_argument("--out", default="demo", help="folder for the config, files, truth and warehouse")
    p.add_argument(
        "--via",
        choices=["sftp", "gcs"],
        help="serve the transaction files from a local SFTP server or GCS emulator and ingest through it",
    )
    verbose_option(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("backfill", help="materialize every asset for a date range as one run")
    p.add_argument("--from", type=date_arg, required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", type=date_arg, required=True, help="last day, YYYY-MM-DD (inclusive)")
    project_options(p)
    verbose_option(p)
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser(
        "recover", help="mark runs whose process died (e.g. SIGKILL) failed and free their pool slots"
    )
    p.add_argument("--dry-run", action="store_true", help="only list them")
    p.set_defaults(func=cmd_recover)
