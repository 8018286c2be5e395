"""Start bqemulator without DuckDB's spatial extension (it cannot be downloaded here and
Nightjar uses no GEOGRAPHY). Run with the emulator's own virtualenv: python THIS start ..."""

import sys

from bqemulator.storage.engine import DuckDBEngine

DuckDBEngine._load_spatial = lambda self: None  # GEOGRAPHY functions are not needed

from bqemulator.cli import main  # noqa: E402

sys.exit(main())
