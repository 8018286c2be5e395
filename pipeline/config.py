"""The project config: the domains' settings composed into one ProjectConfig, and the loader whose
errors name the file and the key path.

Each domain declares its own settings (``pipeline/<domain>/config.py``), each on top of the
settings of the domains upstream of it; this module only composes them and reads the file.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from pipeline.activation.config import ActivationConfig
from pipeline.core.settings import AT, ConfigError, key_path
from pipeline.ingest.config import SOURCE_KINDS


class ProjectConfig(ActivationConfig):
    """Everything a project declares: sources and datasets, the customer 360, models, experiments,
    attribution and activation (see nightjar.example.yaml)."""


# pydantic's errors of a value given for a date that is none (a number reads as unix seconds)
NOT_A_DATE = {"date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"}


def parse_config(data: object, file: str | Path, base_dir: Path) -> ProjectConfig:
    if not isinstance(data, dict):
        raise ConfigError(file, [("", "the config must be a YAML mapping (key: value) at the top level")])
    try:
        return ProjectConfig.model_validate({**data, "base_dir": base_dir})
    except ValidationError as e:
        problems = []
        for err in e.errors():
            msg = err["msg"].removeprefix("Value error, ")
            loc = err["loc"]
            if len(loc) > 2 and loc[0] == "sources" and loc[2] in SOURCE_KINDS:  # the union's tag
                loc = loc[:2] + loc[3:]
            if err["type"] == "union_tag_invalid":
                loc, msg = (*loc, "kind"), f"unknown source kind; use one of {', '.join(SOURCE_KINDS)}"
            path = key_path(loc)
            if m := AT.match(msg):
                sub, msg = m.groups()
                path = f"{path}.{sub}" if path and not sub.startswith("[") else path + sub
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; see nightjar.example.yaml)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            elif err["type"] in NOT_A_DATE:  # not pydantic's "Datetimes provided to dates should have..."
                value = err["input"]
                shown = repr(value) if isinstance(value, str) else str(value)
                msg = f"{shown} is not a date: write it as YYYY-MM-DD (e.g. 2026-01-31)"
            problems.append((path, msg))
        raise ConfigError(file, problems) from None


def not_utf8(data: bytes, e: UnicodeDecodeError) -> str:
    """Where a config file stops being UTF-8: the byte, its offset, line and column."""
    before = data[: e.start]
    line = before.count(b"\n") + 1
    column = e.start - (before.rfind(b"\n") + 1) + 1
    return (
        f"not UTF-8: byte 0x{data[e.start]:02x} at offset {e.start} (line {line}, column {column}); "
        "save the file as UTF-8"
    )


TIMESTAMP = "tag:yaml.org,2002:timestamp"


def node_problems(node: yaml.Node, path: tuple = (), seen: set[int] | None = None) -> list[tuple[str, str]]:
    """What YAML itself would pass over in silence, with key paths: a key given twice in one mapping
    (YAML keeps the last value), a value YAML reads as a date that is no date (2026-02-30)."""
    seen = set() if seen is None else seen
    if id(node) in seen:  # an alias: its node was checked where it was first written
        return []
    seen.add(id(node))
    problems: list[tuple[str, str]] = []
    if isinstance(node, yaml.MappingNode):
        lines: dict[str, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            line = key.start_mark.line + 1
            if name in lines:
                problems.append(
                    (key_path((*path, name)), f"given twice (lines {lines[name]} and {line}): keep one")
                )
            elif name is not None:
                lines[name] = line
            problems += node_problems(value, (*path, name) if name is not None else path, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            problems += node_problems(item, (*path, i), seen)
    elif isinstance(node, yaml.ScalarNode) and node.tag == TIMESTAMP:
        try:
            yaml.SafeLoader("").construct_yaml_timestamp(node)
        except ValueError as e:
            where = f"{node.value} (line {node.start_mark.line + 1})"
            problems.append((key_path(path), f"{where} is not a date: {e}"))
    return problems


def read_yaml(text: str, file: Path) -> object:
    """The YAML document of a config; ConfigError for what node_problems finds."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if problems := node_problems(node):
            raise ConfigError(file, problems)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_config(path: str | Path) -> ProjectConfig:
    """Read and validate a project config; raise ConfigError naming the file and key paths."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, [("", "file not found")]) from None
    except OSError as e:  # a directory, no permission...
        raise ConfigError(path, [("", f"cannot read: {e.strerror}")]) from None
    except UnicodeDecodeError as e:
        raise ConfigError(path, [("", not_utf8(path.read_bytes(), e))]) from None
    try:
        data = read_yaml(text, path)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(path, [("", f"not valid YAML: {where}{getattr(e, 'problem', e)}")]) from None
    except ValueError as e:  # YAML reads 2026-13-01 as a date and fails on it
        raise ConfigError(path, [("", f"a value YAML reads as a date is not a date: {e}")]) from None
    return parse_config(data, path, path.resolve().parent)
