"""attribution_credits holds one row per conversion, model and channel by default, and one per credited
touch for the models of `perTouchCredits`: the summary (with its bootstrap intervals) is the same bits
either way, and each row of a channel is the sum of its touches' rows."""

from __future__ import annotations

import pytest

from tests.conftest import example_dict
from tests.unit.attribution.helpers import DAY, attribute
from tests.unit.attribution.test_attribution_bootstrap import MODELS, _events, _spec
from tests.unit.attribution.test_attribution_config import problems_of

ROWS = _events(11, 160)
SUMMARY = "SELECT * FROM attribution_summary ORDER BY ALL"
CREDITS = """SELECT conversion, conversion_id, customer_id, model, model_type, channel, channel_id,
                    converted_at, conversion_value, credit_share, credited_value, touched_at, touches
             FROM attribution_credits ORDER BY conversion, conversion_id, model, channel"""
PER_CHANNEL = """SELECT conversion, conversion_id, any_value(customer_id), model, any_value(model_type),
                        channel, any_value(channel_id), any_value(converted_at), any_value(conversion_value),
                        sum(credit_share), sum(credited_value), max(touched_at), sum(touches)::INTEGER
                 FROM attribution_credits GROUP BY conversion, conversion_id, model, channel
                 ORDER BY conversion, conversion_id, model, channel"""


@pytest.fixture(scope="module")
def both():
    """The same world attributed with every model per touch (as before) and with the default."""
    per_touch = attribute(ROWS, _spec(bootstrap=50, perTouchCredits=True))
    default = attribute(ROWS, _spec(bootstrap=50, perTouchCredits=False))
    return per_touch, default


def test_the_summary_and_its_intervals_are_the_same_bits_with_either_kind_of_rows(both):
    per_touch, default = both
    expected = per_touch.execute(SUMMARY).fetchall()
    assert len(expected) > 20
    assert all(r[-1] is not None for r in expected)  # the intervals are there
    assert default.execute(SUMMARY).fetchall() == expected


def test_one_row_per_conversion_model_and_channel_summing_its_touches(both):
    per_touch, default = both
    (touch_rows,) = per_touch.execute("SELECT count(*) FROM attribution_credits").fetchone()
    got = default.execute(CREDITS).fetchall()
    assert len(got) < touch_rows * 0.8
    keys = [(r[0], r[1], r[3], r[5]) for r in got]
    assert len(keys) == len(set(keys))
    want = per_touch.execute(PER_CHANNEL).fetchall()
    assert [r[:9] for r in got] == [r[:9] for r in want]
    assert [r[11:] for r in got] == [r[11:] for r in want]  # the channel's last touch, its touches
    for g, w in zip(got, want, strict=True):
        assert g[9:11] == pytest.approx(w[9:11], abs=1e-12)
    # a row names its touch when it sums exactly one (first / last click rows are per touch anyway)
    named = default.execute("""SELECT count(*) FILTER (WHERE (touch_id IS NOT NULL) <> (touches = 1)),
                                      count(*) FILTER (WHERE touches > 1)
                               FROM attribution_credits""").fetchone()
    assert named[0] == 0 and named[1] > 0


def test_the_credits_of_every_conversion_sum_to_its_value(both):
    _, default = both
    sums = default.execute("""SELECT count(*), max(abs(s - 1)), max(abs(v - value))
                              FROM (SELECT conversion_id, model, sum(credit_share) s, sum(credited_value) v,
                                           any_value(conversion_value) value
                                    FROM attribution_credits GROUP BY ALL)""").fetchone()
    conversions = default.execute("SELECT count(DISTINCT conversion_id) FROM attribution_credits").fetchone()[
        0
    ]
    assert sums[0] == conversions * len(
        default.execute("SELECT DISTINCT model FROM attribution_credits").fetchall()
    )
    assert sums[1] < 1e-12 and sums[2] < 1e-9


def test_named_models_keep_their_touches(both):
    per_touch, default = both
    con = attribute(ROWS, _spec(perTouchCredits=["M", "P"]))
    rows = "SELECT model, count(*) FROM attribution_credits GROUP BY ALL ORDER BY ALL"
    got, touches, channels = (dict(c.execute(rows).fetchall()) for c in (con, per_touch, default))
    assert got == {m: touches[m] if m in ("M", "P") else channels[m] for m in channels}
    assert got["M"] > channels["M"] and got["P"] > channels["P"]
    assert con.execute("SELECT DISTINCT touches FROM attribution_credits WHERE model = 'M'").fetchall() == [
        (1,)
    ]


def test_an_unknown_model_in_per_touch_credits_is_refused_by_its_key(tmp_path):
    data = example_dict()
    data["attribution"]["perTouchCredits"] = ["Markov", "Nope"]
    problems = dict(problems_of(data, tmp_path))
    assert "unknown model 'Nope'" in problems["attribution.perTouchCredits[1]"], problems


def test_the_day_of_a_model_is_attributed(both):
    _, default = both
    assert default.execute("SELECT DISTINCT _partition_date FROM attribution_credits").fetchall() == [(DAY,)]
    assert {m for (m,) in default.execute("SELECT DISTINCT model FROM attribution_credits").fetchall()} >= {
        m["name"] for m in MODELS
    }


def test_without_intervals_the_rule_based_rows_summed_as_computed_are_the_regrouped_touches_bit_for_bit():
    # With no bootstrap, every model's rows are summed per channel as they are computed
    # (channel_credits.sql: the rule-based models' and the data-driven ones') rather than regrouped
    # from their rows per touch (credits_write.sql).
    per_touch = attribute(ROWS, _spec(perTouchCredits=True))
    default = attribute(ROWS, _spec(perTouchCredits=False))
    regrouped = """SELECT conversion, conversion_id, any_value(customer_id), model, any_value(model_type),
                          CASE WHEN count(touch_id) = 1 THEN any_value(touch_id) END, channel,
                          any_value(channel_id), max(touched_at), any_value(converted_at),
                          any_value(conversion_value), sum(credit_share::DECIMAL(38, 18))::DOUBLE,
                          sum(credited_value::DECIMAL(38, 18))::DOUBLE, count(touch_id)::INTEGER
                   FROM attribution_credits GROUP BY conversion, conversion_id, model, channel
                   ORDER BY conversion, conversion_id, model, channel"""
    rows = """SELECT conversion, conversion_id, customer_id, model, model_type, touch_id, channel, channel_id,
                     touched_at, converted_at, conversion_value, credit_share, credited_value, touches
              FROM attribution_credits ORDER BY conversion, conversion_id, model, channel"""
    want = per_touch.execute(regrouped).fetchall()
    assert len(want) > 100 and any(r[-1] > 1 for r in want)
    assert {r[3] for r in want if r[-1] > 1} >= {"M", "S", "P"}  # data-driven and rule-based rows summed
    assert default.execute(rows).fetchall() == want
    assert default.execute(SUMMARY).fetchall() == per_touch.execute(SUMMARY).fetchall()
