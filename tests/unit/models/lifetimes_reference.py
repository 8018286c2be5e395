"""Run by the lifetimes virtualenv (tests/unit/models/conftest.py): reads a CDNOW-shaped summary and
our fitted parameters as JSON on stdin, prints lifetimes' own fits and, with OUR parameters, its
P(alive), expected purchases and expected spend per purchase as JSON."""

import json
import sys

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

case = json.load(sys.stdin)
x, t_x, T, m = (pd.Series(case[k], dtype=float) for k in ("frequency", "recency", "T", "monetary_value"))
bgf = BetaGeoFitter().fit(x, t_x, T)
repeat = (x > 0) & (m > 0)
ggf = GammaGammaFitter().fit(x[repeat], m[repeat])
fitted = {"bgnbd": dict(bgf.params_), "gamma_gamma": dict(ggf.params_)}
bgf.params_ = pd.Series(case["bgnbd"])[["r", "alpha", "a", "b"]]
ggf.params_ = pd.Series(case["gamma_gamma"])[["p", "q", "v"]]
out = {
    "fitted": fitted,
    "p_alive": list(map(float, bgf.conditional_probability_alive(x, t_x, T))),
    "expected_purchases": list(
        map(float, bgf.conditional_expected_number_of_purchases_up_to_time(case["t"], x, t_x, T))
    ),
    "expected_spend": list(map(float, ggf.conditional_expected_average_profit(x[repeat], m[repeat]))),
}
json.dump(out, sys.stdout)
