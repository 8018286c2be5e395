"""The `uniform` policy's propensities (sql/experiments/rates.sql) count only the windows that closed
before the day AND are complete, as the learned policies do (sql/experiments/policy_history.sql): a
window over a day whose file is missing or failed undercounts its conversions until that day loads."""

from __future__ import annotations

from pipeline.experiments.decisions import decide
from tests.unit.experiments.test_learned_decisions import DAY, learned_config, warehouse


def propensities(con) -> dict[str, str]:
    """Each variant's propensity as its rows' reason logs it (`drawn by propensity P ...`)."""
    rows = con.execute(
        "SELECT DISTINCT variant, regexp_extract(reason, 'propensity ([0-9.]+)', 1) FROM results "
        "WHERE NOT is_control"
    ).fetchall()
    return dict(rows)


def test_a_closed_window_over_a_day_not_loaded_does_not_count_in_the_propensities():
    """discount_10: 300 of 1,000 converted in closed windows: (300 + 1) / (1,000 + 2) = 0.3004. When
    those windows are incomplete (a day of them not loaded), discount_10 has no complete window and
    takes the mean of the others' propensities, (0.1008 + 0.2006) / 2 = 0.1507. Before, the
    incomplete windows counted: 0.3004 either way."""
    config = learned_config("uniform", exploration=0.0)
    history = {"discount_10": (300, 1000), "discount_20": (100, 1000), "free_shipping": (200, 1000)}
    complete = warehouse(history)
    decide(complete, config, DAY)
    assert propensities(complete)["discount_10"] == "0.3004"
    incomplete = warehouse(history)
    incomplete.execute("UPDATE conversions SET window_complete = FALSE WHERE variant = 'discount_10'")
    decide(incomplete, config, DAY)
    got = propensities(incomplete)
    assert got["discount_10"] == "0.1507"
    assert (got["discount_20"], got["free_shipping"]) == ("0.1008", "0.2006")
