"""`nightjar attribution models | summary`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from pipeline.cli.common import date_arg, project_config, project_options, warehouse_of
from pipeline.config import load_config


def cmd_attribution(args: argparse.Namespace) -> int:
    """`nightjar attribution models` lists the models; `... summary` prints the credited totals."""
    from pipeline.attribution.credits import SUMMARY
    from pipeline.attribution.models import all_models
    from pipeline.core.metadata import markdown_table
    from pipeline.core.partitions import backwards
    from pipeline.core.sql import sql
    from pipeline.core.warehouse import WarehouseError, connect, table_exists

    config = load_config(args.config) if args.config else project_config(args)
    models = all_models(config.attribution)
    if args.attribution_command == "models":
        width = max(len(m.name) for m in models)
        for m in models:
            print(f"{m.name:<{width}}  {'built-in' if m.builtin else 'custom  '}  {m.describe()}")
        return 0
    names = [m.name for m in models]
    if args.model and args.model not in names:
        print(
            f"no attribution model named {args.model!r} (models: {', '.join(map(repr, names))})",
            file=sys.stderr,
        )
        return 1
    first, last = getattr(args, "from"), args.to
    if first and last and (problem := backwards(first, last)):
        print(f"nothing to summarize: {problem}", file=sys.stderr)
        return 2
    warehouse = warehouse_of(args, config)
    try:
        with connect(warehouse, read_only=True) as con:
            if not table_exists(con, SUMMARY):
                print(
                    f"{warehouse}: no {SUMMARY} yet: materialize the attribution assets first",
                    file=sys.stderr,
                )
                return 1
            rows = con.execute(
                sql("attribution/ui_summary"),
                {"a": first or dt.date(1, 1, 1), "b": last or dt.date(9999, 12, 31), "models": names},
            ).fetchall()
    except WarehouseError as e:
        print(e, file=sys.stderr)
        return 1
    print(
        markdown_table(
            ["model", "channel", "conversions", "value"],
            [(m, c, f"{n:.2f}", f"{v:.2f}") for m, c, n, v in rows if not args.model or m == args.model],
        )
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("attribution", help="attribution: list the models, print the credited totals")
    asub = p.add_subparsers(dest="attribution_command", required=True)
    a = asub.add_parser("models", help="the built-in and custom attribution models and their definitions")
    project_options(a, warehouse=False)
    a.set_defaults(func=cmd_attribution)
    a = asub.add_parser("summary", help="credited conversions and value per model and channel")
    a.add_argument("--from", type=date_arg, help="first conversion day, YYYY-MM-DD (default: all)")
    a.add_argument("--to", type=date_arg, help="last conversion day, YYYY-MM-DD (default: all)")
    a.add_argument("--model", help="only this model")
    project_options(a)
    a.set_defaults(func=cmd_attribution)
