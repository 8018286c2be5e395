"""The HTML report of the night: written by the report asset during the nightly run, served by
`nightjar serve` under /reports, rendered by headless Chromium with every plot visible."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from pipeline.activation.report import forest_plot, write_report
from tests.assets.activation.conftest import World
from tests.conftest import ROOT
from tests.integration.screenshots import Browser

SCREENSHOTS = Path(os.environ.get("NIGHTJAR_SCREENSHOTS", ROOT / "build" / "screenshots"))
SECTIONS = ("Experiments", "Models", "Attribution", "KPI trends", "Data quality")


def test_the_report_renders_in_chromium_with_every_plot(api: str, activation_world: World):
    page = httpx.get(f"{api}/reports/")
    assert page.status_code == 200 and all(s in page.text for s in SECTIONS)
    with Browser(width=1280, height=2600) as browser:
        browser.open(f"{api}/reports/", wait_for_text="Data quality")
        images = browser.js(
            "[...document.images].map(i => [i.alt, i.complete && i.naturalWidth > 100"
            " && i.naturalHeight > 100])"
        )
        png = browser.screenshot(SCREENSHOTS / "report.png")
    # the forest plot waits for complete windows (none yet in this 10-day world); every other plot is there
    alts = {alt for alt, _ in images}
    assert {"attribution", "revenue", "customers"} <= alts
    assert sum(alt.endswith(" impact") for alt in alts) == 3
    assert all(ok for _, ok in images), images
    assert png.stat().st_size > 100_000  # a blank page is a few KiB


def test_report_command_writes_the_same_page(activation_world: World, tmp_path):
    written = write_report(activation_world.root, tmp_path)
    served = activation_world.root.parent / "reports" / "index.html"
    assert written.read_text() == served.read_text()
    assert 50_000 < written.stat().st_size < 2_000_000


def test_the_forest_plot_draws_each_variant():
    import pandas as pd

    lifts = pd.DataFrame(
        {
            "experiment": ["offer", "offer"],
            "variant": ["a", "b"],
            "abs_lift": [0.05, -0.01],
            "abs_lift_low": [0.01, -0.04],
            "abs_lift_high": [0.09, 0.02],
        }
    )
    assert forest_plot(lifts).startswith("![](data:image/png;base64,")
    assert forest_plot(lifts.iloc[:0]) == "_experiment lifts: no complete conversion window yet_"


def test_a_page_written_again_takes_unchanged_figures_from_the_last_and_equals_one_drawn_anew(
    activation_world: World, tmp_path
):
    import json

    from pipeline.activation.publish import current_snapshot
    from pipeline.activation.report import FIGURES, Figures, render

    first = write_report(activation_world.root, tmp_path).read_text()
    kept = json.loads((tmp_path / FIGURES).read_text())
    # the lifts (no window yet: a note), three impact bars, attribution, revenue, customers
    assert len(kept) == 7
    snapshot = current_snapshot(activation_world.root)
    assert snapshot is not None
    reused, anew = Figures(kept), Figures()
    assert render(snapshot, reused) == render(snapshot, anew) == first
    # at most the attribution drawn again: its sums of doubles may differ in the last bit between reads
    assert reused.drawn <= 1 and anew.drawn == len(kept)
    assert write_report(activation_world.root, tmp_path).read_text() == first
    # data the last page did not draw from is drawn, not taken from it
    import datetime as dt

    from pipeline.core.plots import daily_plot

    rows = [(dt.date(2026, 1, 1), "all", 3.0), (dt.date(2026, 1, 2), "all", 4.0)]
    changed = Figures(kept)
    assert changed.draw(daily_plot, rows, "customers in total") == daily_plot(rows, "customers in total")
    assert changed.drawn == 1
