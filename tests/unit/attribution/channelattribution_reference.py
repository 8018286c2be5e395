"""Run inside the ChannelAttribution virtualenv (see conftest.py): reads JSON cases on stdin, writes
ChannelAttribution's `markov_model` results as JSON on stdout. A case: {"paths": [[channel, ...], ...],
"conversions": [...], "nulls": [...], "order": k, "nsim": simulations, "seed": s}; a result:
{"total_conversions": {channel: x}, "removal_effects": {channel: x}}."""

import json
import sys

import pandas as pd
from ChannelAttribution import markov_model


def run(case):
    data = pd.DataFrame(
        {
            "path": [" > ".join(p) for p in case["paths"]],
            "conv": case["conversions"],
            "null": case["nulls"],
        }
    )
    res = markov_model(
        data,
        var_path="path",
        var_conv="conv",
        var_null="null",
        order=case["order"],
        nsim_start=case["nsim"],
        out_more=True,
        seed=case["seed"],
        verbose=False,
        flg_pro=False,
    )
    totals, effects = res["result"], res["removal_effects"]
    return {
        "total_conversions": dict(
            zip(totals["channel_name"], totals["total_conversions"].astype(float), strict=True)
        ),
        "removal_effects": dict(
            zip(effects["channel_name"], effects["removal_effect"].astype(float), strict=True)
        ),
    }


print(json.dumps([run(c) for c in json.load(sys.stdin)], default=float))
