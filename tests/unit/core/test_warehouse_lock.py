"""A warehouse held by another process: one line naming the process, whatever its command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.core.warehouse import WarehouseLocked, connect

# a holder whose command line spans lines, as `python -c` with a script of several lines does
HOLDER = (
    "import duckdb, sys, time\ncon = duckdb.connect(sys.argv[1])\nprint('ready', flush=True)\ntime.sleep(60)"
)


def test_the_locked_message_is_one_line_even_when_the_holders_command_line_spans_lines(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        with pytest.raises(WarehouseLocked) as locked, connect(warehouse, read_only=True):
            pass
    finally:
        holder.kill()
        holder.wait()
    message = str(locked.value)
    assert "\n" not in message
    assert f"is in use by process {holder.pid} (python" in message
    assert "import duckdb, sys, time con = duckdb.connect(sys.argv[1])" in message
