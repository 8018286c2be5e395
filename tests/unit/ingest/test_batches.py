"""How a run of files is cut into batches, and the next batch prepared on a thread
(pipeline/ingest/batches.py)."""

from __future__ import annotations

import threading
from contextlib import ExitStack

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.ingest.batches import even_runs, one_ahead


def test_a_run_is_cut_into_even_batches_not_full_ones_and_a_remainder() -> None:
    # 90 days of 6 MB at 256 MiB a batch: 30 + 30 + 30 days, not 44 + 44 + 2
    runs = even_runs([6_000_000] * 90, 256 << 20)
    assert [len(r) for r in runs] == [30, 30, 30]
    assert [i for r in runs for i in r] == list(range(90))
    assert even_runs([10] * 4, 100) == [[0, 1, 2, 3]]
    assert even_runs([], 100) == []


def test_a_file_larger_than_the_limit_is_a_batch_of_its_own() -> None:
    assert even_runs([10, 500, 10, 10], 100) == [[0], [1], [2, 3]]
    assert even_runs([60, 60, 500, 0, 0], 100) == [[0], [1], [2], [3, 4]]


@given(st.lists(st.integers(0, 300), max_size=60), st.integers(1, 400))
def test_batches_keep_the_order_and_the_limit(sizes: list[int], limit: int) -> None:
    runs = even_runs(sizes, limit)
    assert [i for r in runs for i in r] == list(range(len(sizes)))
    assert all(r for r in runs)
    assert all(len(r) == 1 or sum(sizes[i] for i in r) <= limit for r in runs)


def test_the_next_job_runs_while_the_caller_works_on_the_current_item() -> None:
    second_started = threading.Event()
    log: list[str] = []

    def first(stack: ExitStack) -> str:
        stack.callback(log.append, "first released")
        return "a"

    def second(stack: ExitStack) -> str:
        second_started.set()
        stack.callback(log.append, "second released")
        return "b"

    with one_ahead([first, None, second]) as items:
        got = []
        for k, item in enumerate(items):
            if k == 0:
                # the job of the next item that has one starts before this one is done
                assert second_started.wait(30)
                assert log == []
            if k == 1:
                assert log == ["first released"]  # released once the caller moved on
            got.append(item() if item is not None else None)
    assert got == ["a", None, "b"]
    assert log == ["first released", "second released"]


def test_a_jobs_error_is_raised_where_its_item_is_taken_and_everything_is_released() -> None:
    log: list[str] = []

    def bad(stack: ExitStack) -> str:
        stack.callback(log.append, "bad released")
        raise ValueError("over the limits")

    def good(stack: ExitStack) -> str:
        stack.callback(log.append, "good released")
        return "ok"

    with one_ahead([bad, good]) as items:
        it = iter(items)
        first = next(it)
        assert first is not None
        with pytest.raises(ValueError, match="over the limits"):
            first()
        second = next(it)
        assert second is not None and second() == "ok"
        assert log == ["bad released"]
    assert log == ["bad released", "good released"]


def test_a_caller_that_stops_half_way_releases_the_prepared_batches() -> None:
    ran: list[str] = []
    log: list[str] = []

    def job(name: str):
        def run(stack: ExitStack) -> str:
            ran.append(name)
            stack.callback(log.append, name)
            return name

        return run

    with pytest.raises(RuntimeError), one_ahead([job("a"), job("b"), job("c")]) as items:
        for item in items:
            assert item is not None
            item()
            raise RuntimeError("the warehouse cannot be written")
    # c never started; a and b (if it started before the caller stopped) released
    assert "c" not in ran
    assert sorted(log) == sorted(ran) and "a" in log
