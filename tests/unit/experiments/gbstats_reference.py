"""Run inside the gbstats virtualenv (see conftest.py): reads lines of JSON cases on stdin, writes for
each line gbstats' results as a line of JSON on stdout. A case: {"test": "frequentist"|"sequential"|
"bayesian", "relative": bool, "alpha": float, "tuning": float, "a": stat, "b": stat}, a stat
{"n", "sum"} (a proportion), {"n", "sum", "sum_squares"} (a mean), {"n", "post": stat, "pre": stat,
"xy": float} (regression adjusted: CUPED) or {"n", "numerator": stat, "denominator": stat,
"product": float} (a ratio over n units: per customer). A result whose "error" is set is gbstats'
uninformative default: no result."""

import json
import sys

from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
from gbstats.frequentist.tests import (
    FrequentistConfig,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import (
    ProportionStatistic,
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)


def statistic(s):
    if "pre" in s:
        return RegressionAdjustedStatistic(
            n=s["n"],
            post_statistic=statistic(s["post"]),
            pre_statistic=statistic(s["pre"]),
            post_pre_sum_of_products=s["xy"],
            theta=0,
        )
    if "numerator" in s:
        return RatioStatistic(
            n=s["n"],
            m_statistic=statistic(s["numerator"]),
            d_statistic=statistic(s["denominator"]),
            m_d_sum_of_products=s["product"],
        )
    if "sum_squares" in s:
        return SampleMeanStatistic(n=s["n"], sum=s["sum"], sum_squares=s["sum_squares"])
    return ProportionStatistic(n=s["n"], sum=s["sum"])


def run(case):
    kind = "relative" if case["relative"] else "absolute"
    a, b = statistic(case["a"]), statistic(case["b"])
    if case["test"] == "bayesian":
        res = EffectBayesianABTest(
            a, b, EffectBayesianConfig(difference_type=kind, alpha=case["alpha"])
        ).compute_result()
        return {
            "expected": res.expected,
            "low": res.ci[0],
            "high": res.ci[1],
            "chance_to_win": res.chance_to_win,
            "risk": res.risk,
            "error": res.error_message,
        }
    if case["test"] == "sequential":
        config = SequentialConfig(
            difference_type=kind, alpha=case["alpha"], sequential_tuning_parameter=case["tuning"]
        )
        res = SequentialTwoSidedTTest(a, b, config).compute_result()
    else:
        res = TwoSidedTTest(
            a, b, FrequentistConfig(difference_type=kind, alpha=case["alpha"])
        ).compute_result()
    return {
        "expected": res.expected,
        "low": res.ci[0],
        "high": res.ci[1],
        "p_value": res.p_value,
        "error": res.error_message,  # gbstats gives no result (its uninformative default)
    }


for line in sys.stdin:
    print(json.dumps([run(c) for c in json.loads(line)]), flush=True)
