"""A stored version's trees compiled to machine code for the night's scoring (lleaves, on LLVM).

LightGBM walks its trees in an interpreter; lleaves turns the same model file into one function per
tree, called in the file's order and added up as LightGBM adds them (0 + tree 1 + tree 2 + ...: one
block of trees, so no partial sums in another order), then the same sigmoid: the same scores bit for
bit, several times faster. The compiled code is kept beside the version's model file (``forest-*.bin``,
keyed by the host CPU, the trees used and the compiler's version), so a version is compiled once, on
its first scoring; trees are compiled as separate functions (not inlined into one), which keeps that
compile to seconds. Every use is checked against LightGBM on a sample of the rows it scores; a
difference falls back to LightGBM for the whole call (and says so in the log).

A run that trains a version and then scores it starts the compile as the training ends
(``compile_soon``), on one background thread at the lowest priority: it takes what the run's next
steps leave of the cores (a training's single-threaded parts, the other core), and the scoring waits
for what is left of it (``forest``), so the version's first scoring finds the compiled file kept.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # lightgbm is imported where a model is trained or loaded
    import lightgbm as lgb

FOREST = "_compiled_forest"  # the key of a version's compiled forest in its metadata, while scoring
FILE_PREFIX = "forest-"
CHECKED_ROWS = 256  # rows of each call scored by LightGBM too, spread over the call's rows
BACKGROUND_NICE = 19  # a background compile's niceness while no scoring waits for it: the lowest

log = logging.getLogger(__name__)


def trees(booster: lgb.Booster, meta: dict) -> int:
    """The iterations the version scores with (its best iteration, else all)."""
    every = booster.num_trees() // booster.num_model_per_iteration()
    return min(int(meta.get("best_iteration") or every), every)


def _host() -> str:
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    return llvm.get_host_cpu_name() + ":" + llvm.get_host_cpu_features().flatten()


def cache_path(folder: Path, booster: lgb.Booster, meta: dict) -> Path:
    """Where the version's compiled forest is kept: one file per host CPU, trees and compiler."""
    key = "|".join(
        [_host(), str(trees(booster, meta)), metadata.version("lleaves"), metadata.version("llvmlite")]
    )
    return folder / f"{FILE_PREFIX}{hashlib.blake2b(key.encode(), digest_size=8).hexdigest()}.bin"


def unsupported(booster: lgb.Booster) -> bool:
    """Whether the booster has what the compiled trees do not score as LightGBM does: a split that reads
    zero as missing (``zero_as_missing``: LightGBM reads a value within 1e-35 of 0 as 0 there) or a
    linear tree (``linear_tree``: the compiler keeps only its leaves' constants). Such a version is
    not compiled."""
    for line in booster.model_to_string().splitlines():
        key, _, value = line.partition("=")
        if key == "decision_type" and value and any((int(d) >> 2) & 3 == 1 for d in value.split()):
            return True
        if key == "is_linear" and value.strip() == "1":
            return True
    return False


def forest(folder: Path, model_file: Path, booster: lgb.Booster, meta: dict):
    """The version's trees compiled (from its kept file, else compiled now and kept): an lleaves.Model;
    None for a version it cannot compile as LightGBM scores it (``unsupported``; LightGBM scores it).
    A compile of the version started by ``compile_soon`` is waited for (its file is then kept)."""
    wait(folder)
    return _compiled(folder, model_file, booster, meta)


def _compiled(folder: Path, model_file: Path, booster: lgb.Booster, meta: dict):
    import lleaves

    path = cache_path(folder, booster, meta)
    kept = path.exists()  # compiled on an earlier scoring, so its splits were checked then
    if not kept and unsupported(booster):
        return None
    source = model_file
    n = trees(booster, meta)
    if n < booster.num_trees() // booster.num_model_per_iteration() and not kept:
        source = folder / f"{path.stem}.txt.{os.getpid()}.tmp"  # the trees it scores with, not the rest
        source.write_text(booster.model_to_string(num_iteration=n), encoding="utf-8")
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    options = {"fblocksize": max(n, 1), "finline": False}
    try:
        model = lleaves.Model(model_file=str(source))
        if kept:
            model.compile(cache=str(path), **options)
        else:
            model.compile(cache=str(tmp), **options)
            os.replace(tmp, path)  # a reader sees no file or the whole file
    except Exception as e:  # a model the compiler does not support: LightGBM scores it
        log.warning(f"the trees of {folder} could not be compiled ({e}): LightGBM used")
        return None
    finally:
        tmp.unlink(missing_ok=True)
        if source != model_file:
            source.unlink(missing_ok=True)
    return model


class _Background:
    """One background thread compiling versions' forests (``compile_soon``), at the lowest priority
    while no scoring waits for one, and the compiles started and not yet waited for, by version folder."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[Path, Future] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._thread: int | None = None  # the worker's native thread id, once it runs
        self._waiting = 0  # scorings waiting for a compile: the worker runs at normal priority meanwhile

    def submit(self, folder: Path, model_file: Path, meta: dict) -> None:
        with self._lock:
            if folder in self._pending:
                return
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, "nightjar-compile")
            self._pending[folder] = self._executor.submit(self._run, folder, model_file, meta)

    def wait(self, folder: Path) -> None:
        """Wait for the compile of ``folder`` if one was started (and for those queued before it), the
        worker at normal priority until it is done."""
        with self._lock:
            pending = self._pending.pop(folder, None)
            if pending is None or pending.done():
                return
            self._waiting += 1
            _nice(self._thread, 0)
        try:
            pending.result()
        finally:
            with self._lock:
                self._waiting -= 1

    def busy(self, under: Path) -> bool:
        """Whether a compile of a folder in ``under`` is queued or running."""
        with self._lock:
            return any(f.parent == under and not p.done() for f, p in self._pending.items())

    def _run(self, folder: Path, model_file: Path, meta: dict) -> None:
        import lightgbm as lgb

        with self._lock:
            self._thread = threading.get_native_id()
            if not self._waiting and _can_raise(self._thread):  # else it could starve a waiting scoring
                _nice(self._thread, BACKGROUND_NICE)
        try:
            _compiled(folder, model_file, lgb.Booster(model_file=str(model_file)), meta)
        except Exception as e:  # the scoring compiles it again (or scores with LightGBM) and says why
            log.warning(f"the background compile of {folder} failed ({type(e).__name__}: {e})")
        _release_memory()


def _release_memory() -> None:
    """Give the memory the compile freed back to the system: glibc keeps it in the worker thread's own
    arena, where the run's other steps cannot reuse it (the SF1 recommender's compile: 25 of the 75 MB
    it leaves behind). Nothing where the C library has no ``malloc_trim``."""
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass


def _can_raise(thread: int) -> bool:
    """Whether ``thread``'s priority can be raised back once lowered (CAP_SYS_NICE, or a RLIMIT_NICE
    that allows it): tried one step down and back, so it is at normal priority either way."""
    try:
        os.setpriority(os.PRIO_PROCESS, thread, 1)
        os.setpriority(os.PRIO_PROCESS, thread, 0)
    except (OSError, AttributeError):
        return False
    return True


def _nice(thread: int | None, value: int) -> None:
    """Set one thread's niceness (Linux: per thread); nothing where that is not possible."""
    if thread is None:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, thread, value)
    except (OSError, AttributeError):
        pass


_BACKGROUND = _Background()


def compile_soon(folder: Path, model_file: Path, meta: dict) -> None:
    """Start compiling a saved version's trees (its model file and metadata, as ``forest`` reads them)
    on the background thread; the version's ``forest`` waits for it and reads the kept file."""
    _BACKGROUND.submit(Path(folder).resolve(), model_file, meta)


def compiling(under: Path) -> bool:
    """Whether the background thread is compiling (or has queued) a version in the folder ``under``."""
    return _BACKGROUND.busy(Path(under).resolve())


def wait(folder: Path) -> None:
    """Wait for the background compile of the version in ``folder``, if one was started."""
    _BACKGROUND.wait(Path(folder).resolve())


def _rows(X: pd.DataFrame | np.ndarray, at: np.ndarray):
    return X.iloc[at] if isinstance(X, pd.DataFrame) else X[at]


def predict_raw(
    model, booster: lgb.Booster, X: pd.DataFrame | np.ndarray, meta: dict, threads: int
) -> np.ndarray | None:
    """LightGBM's predictions of X (before calibration) from the compiled forest, or None when a
    sample of them differs from LightGBM's own (the caller then predicts with LightGBM)."""
    try:
        got = model.predict(X, n_jobs=threads or os.cpu_count() or 1)
    except (ValueError, TypeError) as e:  # data it cannot read as LightGBM does
        log.warning(f"the compiled trees could not score these rows ({e}): LightGBM used")
        return None
    at = np.unique(np.linspace(0, len(got) - 1, min(len(got), CHECKED_ROWS)).astype(np.int64))
    want = booster.predict(_rows(X, at), num_iteration=trees(booster, meta), num_threads=1)
    if not np.array_equal(np.asarray(want), got[at]):
        log.warning("the compiled trees scored differently from LightGBM on a sample: LightGBM used")
        return None
    return np.asarray(got)
