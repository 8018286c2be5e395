"""Next best time: the slot covering most of a customer's activity; everyone's busiest slot without any."""

import numpy as np

from pipeline.experiments.timing import best_slots, covering_slot

SLOTS = ["18:00", "08:00", "12:30"]  # declared in any order


def test_each_hour_is_covered_by_the_slot_before_it_wrapping_round_midnight():
    cover = covering_slot(SLOTS)
    assert cover[3] == 0 and cover[8] == 1 and cover[11] == 1 and cover[12] == 2 and cover[20] == 0


def test_the_customers_slot_follows_their_own_activity_and_is_always_declared():
    rng = np.random.default_rng(0)
    n = 3000
    peak = rng.integers(0, 24, n)
    hours = rng.poisson(0.2, (n, 24)).astype(float)
    hours[np.arange(n), peak] += 6  # each customer's busiest hour
    hours[-100:] = 0  # no events: everyone's busiest slot
    slot = best_slots(hours, SLOTS)
    assert set(slot.tolist()) <= {0, 1, 2}
    active = slice(0, n - 100)
    assert (slot[active] == covering_slot(SLOTS)[peak[active]]).mean() > 0.95
    everyone = int(np.argmax([hours[:, covering_slot(SLOTS) == s].sum() for s in range(3)]))
    assert (slot[-100:] == everyone).all()
