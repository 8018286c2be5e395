"""The demo's closing findings, read from the snapshot next to the world's truth."""

from __future__ import annotations

import json
import re
import shutil

from pipeline.cli.findings import findings
from tests.assets.activation.conftest import World


def test_findings_put_each_model_next_to_the_truth_and_name_the_top_channels(
    activation_world: World, tmp_path
):
    truth = activation_world.config.base_dir / "truth"
    assert not findings(activation_world.root, truth).startswith("Lift")  # no experiments.json: no lifts
    shutil.copy(truth / "customers.csv", tmp_path / "customers.csv")
    (tmp_path / "experiments.json").write_text(json.dumps({"experiments": {"offer": {"true_abs_lift": {}}}}))
    text = findings(activation_world.root, tmp_path)
    lines = text.splitlines()
    assert lines[0] == "Lift in conversion rate (95% interval) | true lift:"
    assert lines[1] == "  no complete conversion window yet"  # 10 days: the 6-day windows of day 9 are open
    models = {
        m: (float(auc), float(c))
        for m, auc, c in re.findall(r"  (\w+) \(\w+\): AUC ([\d.]+) \| ([+-][\d.]+)", text)
    }
    assert set(models) == {"purchase_30d", "churn_60d"}
    assert all(0 < auc <= 1 and -1 <= c <= 1 for auc, c in models.values())
    assert re.search(r"^Top channels \(Markov\): \w[\w ]* [\d,]+, ", text, re.M)


def test_findings_without_a_snapshot(tmp_path):
    assert findings(tmp_path, tmp_path) == "Nothing was published: no findings."
