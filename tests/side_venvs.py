"""What the fixtures that build a reference tool's own virtualenv (gbstats, the BigQuery emulator)
share: the uv command to build it with."""

from __future__ import annotations

import shutil
import subprocess
import sys


def uv_command() -> list[str] | None:
    """A uv command (the Makefile installs uv into the machine's python3), or None."""
    for cmd in (
        [shutil.which("uv")],
        [getattr(sys, "_base_executable", sys.executable), "-m", "uv"],
        ["python3", "-m", "uv"],
    ):
        if cmd[0] and subprocess.run([*cmd, "--version"], capture_output=True).returncode == 0:
            return cmd
    return None
