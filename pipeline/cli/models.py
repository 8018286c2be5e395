"""`nightjar explain | model`: why a model scores as it does, and which version is in use."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.cli.common import date_arg, project_config, project_options, warehouse_of


def cmd_explain(args: argparse.Namespace) -> int:
    """The waterfall of one customer's score: base value + each feature's SHAP value = the raw score;
    or, with --dependence, the dependence of the score on one feature."""
    from pipeline.core.warehouse import WarehouseError, connect
    from pipeline.models.scoring import NoModelVersion, explain

    if (args.customer is None) == (args.dependence is None):
        print("give --customer (a customer's waterfall) or --dependence FEATURE", file=sys.stderr)
        return 1
    if args.customer is not None and (args.secondary or args.plot):  # else no plot, and not a word of it
        print("--secondary and --plot go with --dependence, not --customer", file=sys.stderr)
        return 2
    if args.top < 0:  # head(-N) would show all but N and call N + all "other features"
        print("--top must be 0 or more", file=sys.stderr)
        return 2
    if args.dependence is not None:
        return _dependence(args)
    config = project_config(args)
    warehouse = warehouse_of(args, config)
    try:
        spec = config.model(args.model)
        with connect(warehouse, read_only=True) as con:
            e = explain(con, config, spec, args.customer, warehouse.resolve().parent / "models", args.date)
    except (KeyError, LookupError, NoModelVersion, WarehouseError, FileNotFoundError) as err:
        print(err.args[0] if isinstance(err, KeyError) else err, file=sys.stderr)
        return 1
    shown = e.contributions.head(args.top)
    rest = e.contributions["shap"].iloc[args.top :].sum()
    print(
        f"model {e.model} ({spec.type}), version {e.version}, customer {e.customer_id}, as of {e.as_of}"
        + (f", top item {e.item}" if e.item else "")
    )
    print(f"  base value            {e.base_value:+.6f}")
    values = shown["value"].astype(object).where(shown["value"].notna(), "").astype(str).str[:20]
    lines = zip(shown["feature"], values, shown["shap"], strict=True)
    print("\n".join(f"  {f:<32} = {v:<20} {x:+.6f}" for f, v, x in lines))
    if len(e.contributions) > args.top:
        print(f"  {len(e.contributions) - args.top} other features{'':<29} {rest:+.6f}")
    print(f"  raw score (log-odds)  {e.raw_score:+.6f}")
    print(f"score {e.score:.6f}")
    return 0


def _dependence(args: argparse.Namespace) -> int:
    """`nightjar explain --model M --dependence FEATURE [--secondary F] [--plot PNG]`: the binned
    dependence of the score on FEATURE among the day's customers."""
    from pipeline.core.warehouse import WarehouseError, connect
    from pipeline.models.dependence import feature_dependence
    from pipeline.models.scoring import NoModelVersion

    if args.plot and not args.plot.parent.is_dir():  # before the work, not a traceback after it
        print(f"cannot write the plot {args.plot}: {args.plot.parent} is not a folder", file=sys.stderr)
        return 1
    config = project_config(args)
    warehouse = warehouse_of(args, config)
    try:
        spec = config.model(args.model)
        with connect(warehouse, read_only=True) as con:
            d = feature_dependence(
                con,
                config,
                spec,
                warehouse.resolve().parent / "models",
                args.dependence,
                args.secondary,
                args.date,
            )
    except (KeyError, LookupError, NoModelVersion, WarehouseError, FileNotFoundError) as err:
        print(err.args[0] if isinstance(err, KeyError) else err, file=sys.stderr)
        return 1
    print(
        f"model {d.model} ({spec.type}), version {d.version}, as of {d.as_of}: SHAP of {args.dependence} "
        f"over {len(d.table)} customers"
    )
    print(f"  {'from':>12} {'to':>12} {'customers':>9} {'mean SHAP':>10}")
    s = d.summary()
    lines = zip(
        s["value_from"].tolist(),
        s["value_to"].tolist(),
        s["customers"].tolist(),
        s["mean_shap"].tolist(),
        strict=True,
    )
    print("\n".join(f"  {lo:>12.4g} {hi:>12.4g} {int(n):>9} {x:>+10.4f}" for lo, hi, n, x in lines))
    if args.secondary:
        corr = float(d.table[["secondary_value", "shap"]].corr(method="spearman").to_numpy()[0, 1])
        print(f"  rank correlation of {args.secondary} with the SHAP value: {corr:+.3f}")
    if args.plot:
        try:
            args.plot.write_bytes(d.png())
        except OSError as err:
            print(f"cannot write the plot {args.plot}: {err.strerror}", file=sys.stderr)
            return 1
        print(f"plot: {args.plot}")
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    """`nightjar model versions|promote|rollback NAME [VERSION]` (pipeline/models/commands.py)."""
    from pipeline.core.warehouse import WarehouseError
    from pipeline.models.champion import VersionError
    from pipeline.models.commands import model_command

    if args.version is not None and args.model_command != "promote":  # not silently ignored
        print(f"model {args.model_command} takes no VERSION (promote NAME VERSION does)", file=sys.stderr)
        return 2
    config = project_config(args)
    try:
        config.model(args.name)
        warehouse = warehouse_of(args, config)
        if not warehouse.is_file():  # promote / rollback would create an empty one
            print(f"the warehouse {warehouse} does not exist: run the pipeline first", file=sys.stderr)
            return 1
        print(model_command(args.model_command, args.name, args.version, warehouse))
    except (KeyError, VersionError, WarehouseError, FileNotFoundError) as err:
        print(err.args[0] if isinstance(err, KeyError) else err, file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain", help="why a model scores a customer as it does (SHAP waterfall)")
    p.add_argument("--model", required=True, help="a model name of the config")
    p.add_argument("--customer", help="a customer_id: the waterfall of their score")
    p.add_argument("--dependence", metavar="FEATURE", help="the dependence of the score on FEATURE (SHAP)")
    p.add_argument("--secondary", metavar="FEATURE", help="with --dependence: the colour feature")
    p.add_argument("--plot", type=Path, metavar="PNG", help="with --dependence: write the plot to PNG")
    p.add_argument("--date", type=date_arg, help="as of this day (default: the last day with events)")
    p.add_argument("--top", type=int, default=10, help="contributions shown (the rest are summed)")
    project_options(p)
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("model", help="a model's versions; promote one, or roll the one in use back")
    p.add_argument("model_command", choices=["versions", "promote", "rollback"])
    p.add_argument("name", help="a model name of the config")
    p.add_argument("version", nargs="?", type=date_arg, help="promote: the version (YYYY-MM-DD)")
    project_options(p)
    p.set_defaults(func=cmd_model)
