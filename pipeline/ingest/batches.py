"""Batches of a backfill's files: how a run of files is cut, and the batch after the current one
prepared on a thread.

A run of consecutive files that can be read together is cut into the fewest batches of at most a
given size, about equal in size (not full batches and a small remainder: the remainder would pay the
fixed cost of a batch for a few files, and the largest batch sets the peak memory).

While DuckDB runs a batch's statements (they release the GIL and keep both cores busy only part of
the time), the Python work on the files of the next batch (the guard pass over every byte, headers)
runs on one worker thread: :func:`one_ahead`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import TypeVar

R = TypeVar("R")
# A job of one batch: prepares it, entering into the ExitStack what must live until the batch is done
# (temporary copies of files); its result is given to the batch, or its exception raised there.
Job = Callable[[ExitStack], R]


def even_runs(sizes: Sequence[int], limit: int) -> list[list[int]]:
    """The positions of ``sizes`` cut into consecutive runs of at most ``limit`` (a larger item is a
    run of its own), about equal in size and as few as an even cut allows; in order."""
    out: list[list[int]] = []
    start = 0
    for i, s in enumerate([*sizes, None]):  # a loop over files, not rows
        if s is None or s > limit:
            out += [[start + j for j in run] for run in _even(sizes[start:i], limit)]
            out += [[i]] if s is not None else []
            start = i + 1
    return out


def _even(sizes: Sequence[int], limit: int) -> list[list[int]]:
    """even_runs of items of at most ``limit`` each."""
    total = sum(sizes)
    if not sizes or total <= limit:
        return [list(range(len(sizes)))] if sizes else []
    for n in range(math.ceil(total / limit), len(sizes) + 1):
        target = total / n
        runs: list[list[int]] = [[] for _ in range(n)]
        before = 0
        for i, s in enumerate(sizes):  # a loop over files, not rows
            runs[min(n - 1, int((before + s / 2) // target))].append(i)
            before += s
        out = [r for r in runs if r]
        if all(sum(sizes[i] for i in r) <= limit for r in out):
            return out
    return [[i] for i in range(len(sizes))]


@contextmanager
def one_ahead(jobs: Sequence[Job[R] | None]) -> Iterator[Iterator[Callable[[], R] | None]]:
    """The jobs run on one worker thread, each started when the caller takes the item before it: for
    each item, a function that waits for its job's result (raising what the job raised), or None for
    an item without a job. What a job entered into its ExitStack is closed once the caller takes the
    next item, or when the block ends (whatever happened)."""
    stacks = [ExitStack() for _ in jobs]
    futures: list[Future | None] = [None] * len(jobs)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nightjar-ingest") as pool:

        def start(k: int) -> None:
            job = jobs[k] if k < len(jobs) else None
            if job is not None and futures[k] is None:
                futures[k] = pool.submit(job, stacks[k])

        def items() -> Iterator[Callable[[], R] | None]:
            for k in range(len(jobs)):
                start(k)
                ahead = next((j for j in range(k + 1, len(jobs)) if jobs[j] is not None), len(jobs))
                start(ahead)
                f = futures[k]
                yield f.result if f is not None else None
                stacks[k].close()

        try:
            yield items()
        finally:
            for f in futures:
                if f is not None:
                    f.cancel()
            pool.shutdown(wait=True)
            for s in stacks:
                s.close()
