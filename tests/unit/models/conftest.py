"""The references the customer lifetime value is checked against: the CDNOW sample (the BG/NBD
paper's 2,357 customers) read out of the lifetimes 0.11.3 wheel, and lifetimes itself in its own
virtualenv (.cache/lifetimes, built once: old numpy/pandas/scipy pins), spoken to by running
lifetimes_reference.py there."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pandas as pd
import pytest

from tests.side_venvs import ensure_venv, run_reference, side_venv

ROOT = Path(__file__).resolve().parents[3]
CACHE = ROOT / ".cache"
LIFETIMES = "lifetimes==0.11.3"
WHEEL = CACHE / "wheels" / "Lifetimes-0.11.3-py3-none-any.whl"
# lifetimes 0.11.3 (2020) imports pkg_resources and predates numpy 2 and pandas 2
LIFETIMES_PACKAGES = [LIFETIMES, "numpy==1.23.5", "pandas==1.5.3", "scipy==1.10.1", "setuptools==69.5.1"]
LIFETIMES_VENV = side_venv("lifetimes", LIFETIMES_PACKAGES)
SCRIPT = Path(__file__).with_name("lifetimes_reference.py")


def _run(step: list[str], what: str) -> None:
    run = subprocess.run(step, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"cannot {what} ({' '.join(step[:4])} ...): {run.stderr[-2000:]}")


def lifetimes_wheel() -> Path:
    """The lifetimes wheel, downloaded once by pip (no dependencies) into .cache/wheels."""
    if not WHEEL.is_file():
        tmp = WHEEL.parent.with_name(f"wheels.tmp-{os.getpid()}")
        base = getattr(sys, "_base_executable", sys.executable)
        _run(
            [base, "-m", "pip", "download", "--no-deps", "-q", "-d", str(tmp), LIFETIMES],
            "download the lifetimes wheel",
        )
        WHEEL.parent.mkdir(parents=True, exist_ok=True)
        (tmp / WHEEL.name).replace(WHEEL)
        shutil.rmtree(tmp, ignore_errors=True)
    return WHEEL


def read_dataset(name: str) -> bytes:
    with zipfile.ZipFile(lifetimes_wheel()) as wheel:
        return wheel.read(f"lifetimes/datasets/{name}")


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    """The published CDNOW calibration summary (weeks): frequency, recency, T, monetary_value, by ID."""
    frame = pd.read_csv(io.BytesIO(read_dataset("cdnow_customers_summary_with_transactions.csv")))
    return frame.rename(
        columns={"ID": "customer_id", "x": "frequency", "t_x": "recency", "zbar": "monetary_value"}
    ).set_index("customer_id")


@pytest.fixture(scope="session")
def cdnow_transactions() -> pd.DataFrame:
    """The CDNOW sample's transactions: customer_id (the summary's ID), day, value."""
    frame = pd.read_csv(
        io.BytesIO(read_dataset("CDNOW_sample.txt")),
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "day", "quantity", "value"],
        dtype={"master_id": str, "customer_id": int, "day": str},
    )
    frame["day"] = pd.to_datetime(frame["day"], format="%Y%m%d")
    return frame[["customer_id", "day", "value"]]


@pytest.fixture(scope="session")
def lifetimes() -> Callable[[dict], dict]:
    """Runs a case (see lifetimes_reference.py) through lifetimes; returns its results."""
    python = ensure_venv(LIFETIMES_VENV, LIFETIMES_PACKAGES)

    def run(case: dict) -> dict:
        return cast(dict, run_reference(python, SCRIPT, case))

    return run
