"""The `nightjar` command line. Each module of this package registers its commands; each command calls its
domain: project (validate, demo, backfill, recover), data (upload, forget, export), models (explain, model),
attribution, activation (serve, report)."""

from __future__ import annotations

import argparse
import os
import sys

from pipeline.cli import activation, attribution, data, models, project
from pipeline.cli.project import run_backfill, summary, write_demo_config
from pipeline.core.settings import ConfigError
from pipeline.core.warehouse import WarehouseError

__all__ = ["build_parser", "main", "run_backfill", "summary", "write_demo_config"]

COMMANDS = (project, data, models, attribution, activation)  # the order of `nightjar --help`


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nightjar", description="Nightjar customer decisioning pipeline")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # so that a closed pipe shows here, not in Python's complaint at exit
        return code
    except BrokenPipeError:  # the reader went away (`nightjar ... | head`): the rest goes nowhere, quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (ConfigError, WarehouseError) as e:  # a user's to mend: the message, not a traceback
        print(e, file=sys.stderr)
        return 1
