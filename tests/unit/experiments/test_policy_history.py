"""What a learned policy learns from (sql/experiments/policy_history.sql): closed and complete windows
as they ended, windows still open with the conversions landed before the night, and the days seen."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipeline.core.sql import sql
from pipeline.experiments.learned import _frame

NIGHT = dt.date(2026, 3, 10)


def history(every_match: bool):
    """Presentations 4, 3, 2, 1 and 0 days before the night (3-day windows); each converted the day
    after it (C1's on the night itself: not landed yet); C0 is tonight's; C5's closed window is
    incomplete; the last is another experiment's. ``every_match``: the metric counts every match."""
    con = duckdb.connect()
    con.execute(sql("experiments/create_conversions"))
    con.execute(
        """INSERT INTO conversions BY NAME
           SELECT $night::DATE - ago AS date, 'C' || ago AS customer_id, exp AS experiment,
                  'a' AS variant, false AS is_control, true AS converted, 1 AS conversions,
                  2.5 AS value, ($night::DATE - ago + 1)::TIMESTAMP + INTERVAL 3 HOUR AS first_conversion_at,
                  ($night::DATE - ago)::TIMESTAMP AS window_start,
                  ($night::DATE - ago + 3)::TIMESTAMP AS window_end, complete AS window_complete
           FROM (VALUES (4, 'offer', true), (3, 'offer', true), (2, 'offer', false),
                        (1, 'offer', false), (0, 'offer', false), (5, 'offer', false),
                        (2, 'other', false)) t(ago, exp, complete)""",
        {"night": NIGHT},
    )
    params = {"experiment": "offer", "day": NIGHT, "window_days": 3, "lookback_days": 56}
    return _frame(con, "policy_history", {**params, "every_match": every_match})


def test_open_windows_are_learned_from_with_the_conversions_landed_so_far():
    got = history(every_match=False)
    assert got["customer_id"].tolist() == ["C4", "C3", "C2", "C1"]
    assert got["elapsed_days"].tolist() == [3, 3, 2, 1]
    assert got["converted"].tolist() == [True, True, True, False]
    assert got["value"].tolist() == [2.5, 2.5, 2.5, 0.0]


@pytest.mark.parametrize("every_match", [False, True])
def test_an_open_windows_value_is_learned_only_when_it_holds_no_later_match(every_match):
    """With ``count: all`` an open window's value sums every match of the window, also those after the
    night: C2's value (2.5, its conversion landed) is unknown then (NULL; converted still counts),
    while the closed windows' (C4, C3) hold only matches before the night. Counting the first match
    only, the landed conversion is the whole value."""
    got = history(every_match)
    assert got["converted"].tolist() == [True, True, True, False]
    values = got["value"].astype(object).where(got["value"].notna(), None).tolist()
    assert values == [2.5, 2.5, None if every_match else 2.5, 0.0]
