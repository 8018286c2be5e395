"""Where Nightjar's own files are: the sql/ folder and the example config.

In a checkout they are at the top of the project (``sql/``, ``nightjar.example.yaml``); the wheel
carries copies inside the ``pipeline`` package (``pipeline/_sql``, ``pipeline/_data``; see
``[tool.hatch.build.targets.wheel.force-include]`` in pyproject.toml). The packaged copy wins
when it is there, else the checkout's is used.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # pipeline/
CHECKOUT_DIR = PACKAGE_DIR.parent  # the project folder when running from a checkout


def sql_dir() -> Path:
    """The folder of the queries (``sql/<domain>/<name>.sql``)."""
    packaged = PACKAGE_DIR / "_sql"
    return packaged if packaged.is_dir() else CHECKOUT_DIR / "sql"


def example_config() -> Path:
    """nightjar.example.yaml, the documented example project config."""
    packaged = PACKAGE_DIR / "_data" / "nightjar.example.yaml"
    return packaged if packaged.is_file() else CHECKOUT_DIR / "nightjar.example.yaml"
