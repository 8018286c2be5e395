"""The time a run will take, from earlier runs of its job: the arithmetic, as pure functions."""

from __future__ import annotations

import pytest

from pipeline.ops.estimate import expected_steps, run_days, step_seconds, time_left


def test_a_step_seen_over_one_length_of_run_is_scaled_by_the_days():
    assert step_seconds([(8, 16.0)], 1) == 2.0
    assert step_seconds([(8, 16.0), (8, 20.0)], 4) == 9.0  # the mean, 18 s over 8 days, for 4


def test_a_step_seen_over_several_lengths_follows_the_line_through_them():
    assert step_seconds([(1, 3.0), (9, 7.0)], 5) == 5.0  # 2.5 s fixed + 0.5 s a day
    assert step_seconds([(1, 3.0), (9, 7.0)], 546) == 275.5
    assert step_seconds([(1, 5.0), (10, 3.0)], 100) == 4.0  # not longer with more days: its mean
    # a negative fixed part (-3 s + 2 s a day) is not a duration: the line through the origin instead
    assert step_seconds([(2, 1.0), (4, 5.0)], 10) == pytest.approx(11.0)  # 22 / 20 s a day


def test_each_step_of_the_job_gets_its_expected_time_and_a_new_one_the_median():
    history = [(8, {"a": 8.0, "b": 16.0, "gone": 1.0}), (1, {"a": 1.0})]
    assert expected_steps(history, ["a", "b", "c"], 4) == {"a": 4.0, "b": 8.0, "c": 6.0}
    assert expected_steps([], ["a"], 4) is None  # no earlier run
    assert expected_steps([(8, {"gone": 1.0})], ["a"], 4) is None  # none of these steps


def test_the_time_left_is_what_remains_expected_at_this_runs_pace():
    expected = {"a": 10.0, "b": 20.0, "c": 30.0}
    assert time_left(expected, {}, set()) == 60.0  # before any step: the earlier runs' times
    assert time_left(expected, {}, set(), "a", 4.0) == 56.0
    # a took 20 s where 10 were expected: the pace (20 + 6) / (10 + 6), counting a tenth of the 60 s
    # expected at the earlier pace; b running for 5 s of its 20 × 1.625
    assert time_left(expected, {"a": 20.0}, {"a"}, "b", 5.0) == 27.5 + 48.75
    assert time_left(expected, {"a": 20.0}, {"a"}, "b", 100.0) == 48.75  # b overran: c is left
    assert time_left(expected, {"a": 5.0}, {"a", "b"}) == 30 * 11 / 16  # b failed: ended, not in the pace


def test_a_runs_days_come_from_its_partition_tags():
    range_tags = {
        "dagster/asset_partition_range_start": "2026-01-01",
        "dagster/asset_partition_range_end": "2026-01-20",
    }
    assert run_days(range_tags) == 20
    assert run_days({"dagster/partition": "2026-01-05"}) == 1  # a nightly run
    assert run_days({}) is None and run_days({"dagster/partition": "north"}) is None
