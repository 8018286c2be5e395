"""What every command shares: date arguments, which project and which warehouse."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

from pipeline.config import ProjectConfig, load_config


def date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def project_config(args: argparse.Namespace) -> ProjectConfig:
    if args.config:  # pipeline.definitions (Dagster, every asset) is only needed for the default
        return load_config(args.config)
    from pipeline.definitions import default_config_path

    return load_config(default_config_path())


def project_options(p: argparse.ArgumentParser, warehouse: bool = True) -> None:
    """--config (and --warehouse): which project, which warehouse file."""
    p.add_argument(
        "--config", help="project YAML (default: $NIGHTJAR_CONFIG, demo/nightjar.yaml, the example)"
    )
    if warehouse:
        p.add_argument("--warehouse", help="warehouse file (default: the config's)")


def warehouse_of(args: argparse.Namespace, config: ProjectConfig) -> Path:
    """--warehouse, else the config's warehouse file."""
    return Path(args.warehouse) if getattr(args, "warehouse", None) else config.warehouse_path


def folder_problem(option: str, value: str | Path) -> str | None:
    """Why ``value`` (given as ``option``) cannot be an output folder: it, or the nearest of its parents
    that exists, is not a folder (a file of that name); None when it can be made or is one."""
    path = Path(value)
    for p in (path, *path.parents):
        if p.exists():
            if p.is_dir():
                return None
            where = "" if p == path else f": {p}"
            return f"{option} {value}{where} is a file, not a folder: give a folder"
    return None


def dagster_home_problem() -> str | None:
    """Why $DAGSTER_HOME, when set, cannot hold Dagster's instance (Dagster needs the absolute path of an
    existing folder), or None."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return None
    path = Path(home).expanduser()
    if not path.is_absolute():
        return f"DAGSTER_HOME={home} is not an absolute path: Dagster needs one (e.g. $PWD/.dagster_home)"
    if not path.is_dir():
        return f"DAGSTER_HOME={home} is not a folder (Dagster keeps its runs there): create it or set another"
    return None
