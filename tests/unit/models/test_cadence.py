"""The retraining cadence (pipeline/ml/cadence.py): when a model partition trains a new version."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.models.cadence import next_grid_day, training_due

START = dt.date(2026, 1, 1)  # a Thursday: with a 7-day cadence, Thursdays are training days
D = dt.timedelta


def test_no_finished_version_trains_whatever_the_day():
    c = training_due(START + D(3), 7, START, None)
    assert c.train and c.current is None and "no FINISHED version" in c.reason


def test_a_range_trains_its_last_day_even_when_not_due():
    c = training_due(START + D(3), 7, START, START + D(2), is_range=True)
    assert c.train and "range" in c.reason


def test_a_day_of_the_grid_from_start_date_trains():
    c = training_due(START + D(14), 7, START, START + D(8))
    assert c.train and "training day" in c.reason


def test_a_version_as_old_as_the_cadence_trains_off_the_grid():
    # the grid day (START + 7) failed: the next night catches up
    c = training_due(START + D(8), 7, START, START + D(1))
    assert c.train and "7 day(s) old" in c.reason


def test_a_night_that_is_not_due_keeps_the_current_version_and_says_when_the_next_training_is():
    c = training_due(START + D(9), 7, START, START + D(7))
    assert not c.train and c.current == START + D(7) and c.next_due == START + D(14)
    assert "next training is due on 2026-01-15" in c.reason
    # a first version trained off the grid (a backfill ending on day 10): the grid comes first
    c = training_due(START + D(11), 7, START, START + D(10))
    assert not c.train and c.next_due == START + D(14)


def test_rerunning_the_day_of_the_current_version_does_not_train_it_again():
    c = training_due(START + D(7), 7, START, START + D(7))
    assert not c.train and c.next_due == START + D(14)


def test_a_daily_cadence_trains_every_night():
    assert all(training_due(START + D(n), 1, START, START + D(n - 1)).train for n in range(1, 30))
    assert not training_due(START + D(5), 1, START, START + D(5)).train  # the same day again


def test_over_a_month_a_weekly_cadence_trains_on_the_grid_days_only():
    current, trained = START, []
    for n in range(1, 31):
        day = START + D(n)
        c = training_due(day, 7, START, current)
        if c.train:
            trained.append(n)
            current = day
        else:
            assert c.current == current and c.next_due > day
    assert trained == [7, 14, 21, 28]


def test_next_grid_day():
    assert next_grid_day(START, START, 7) == START + D(7)
    assert next_grid_day(START + D(6), START, 7) == START + D(7)
    assert next_grid_day(START - D(3), START, 7) == START
    with pytest.raises(ValueError, match="at least 1"):
        training_due(START, 0, START, None)


@pytest.mark.parametrize("status", ["FINISHED", "REJECTED", "RETIRED"])
def test_a_trained_version_is_never_trained_again_not_even_by_a_range_or_on_a_training_day(status):
    day = START + D(14)  # a training day of the grid
    current = day if status == "FINISHED" else START + D(10)  # the version in use; due at 7 days old
    # a REJECTED day is a training: the next is due on the cadence from it, as from a FINISHED one
    due = START + D(17) if status == "RETIRED" else START + D(21)
    rejected = day if status == "REJECTED" else None
    for is_range in (False, True):
        c = training_due(day, 7, START, current, is_range=is_range, trained=status, rejected=rejected)
        assert not c.train and f"version {day} is already trained ({status})" in c.reason
        assert c.current == current and c.next_due == due
    # a REJECTED first version: no FINISHED one, the next night trains
    c = training_due(day, 7, START, None, trained="REJECTED")
    assert not c.train and c.current is None and c.next_due == day + D(1)
    # a RETIRED version with an old one back in use: the next night catches up
    assert training_due(day, 7, START, START, trained="RETIRED").next_due == day + D(1)


def test_after_a_rejected_challenger_the_next_training_is_due_on_the_cadence_not_the_next_night():
    """The champion (day 7) is kept when day 14's challenger is REJECTED: days 15..20 keep the champion
    and train nothing (the README: six nights out of seven), day 21 (the grid) trains. Before, the
    champion's age alone counted, so every night after a rejection trained a new challenger."""
    champion, rejected = START + D(7), START + D(14)
    for n in range(15, 21):
        c = training_due(START + D(n), 7, START, champion, rejected=rejected)
        assert not c.train and c.current == champion and c.next_due == START + D(21), n
        assert f"the REJECTED version {rejected} is {n - 14} day(s) old" in c.reason
        assert f"the current version {champion} scores" in c.reason
    assert training_due(START + D(21), 7, START, champion, rejected=rejected).train
    # off the grid (the rejected version trained by a backfill on day 10): due 7 days after it
    assert training_due(START + D(16), 7, START, champion, rejected=START + D(10)).next_due == START + D(17)
    c = training_due(START + D(17), 7, START, champion, rejected=START + D(10))
    assert c.train and c.reason == "the REJECTED version 2026-01-11 is 7 day(s) old (retrain_every_days: 7)"
    # an older rejection than the current version changes nothing; no FINISHED version still trains
    assert training_due(START + D(9), 7, START, champion, rejected=START + D(3)).next_due == START + D(14)
    assert training_due(START + D(15), 7, START, None, rejected=rejected).train
