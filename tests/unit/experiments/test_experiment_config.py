"""The experiment sections of the project config: every wrong key is named by its key path."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from pipeline.config import parse_config
from pipeline.core.settings import ConfigError
from tests.conftest import example_dict


def errors(change) -> list[tuple[str, str]]:
    data = copy.deepcopy(example_dict())
    change(data)
    with pytest.raises(ConfigError) as e:
        parse_config(data, "nightjar.yaml", Path("."))
    return e.value.problems


def test_the_example_config_declares_the_demo_experiments():
    config = parse_config(example_dict(), "nightjar.yaml", Path("."))
    assert [e.name for e in config.experiments] == ["offer", "channel", "offer_uplift"]
    assert (
        config.experiment("offer_uplift").policy == "uplift" and config.experiment("offer").cadence_days == 5
    )
    assert config.experiment("offer").variants == ["discount_10", "discount_20", "free_shipping"]
    assert config.group_of("channel") == "spring_push" and config.conversions.window_days == 5


def _rule(data, i, rule):
    data["variants"][i]["rules"] = [rule]


@pytest.mark.parametrize(
    "change, path, message",
    [
        (
            lambda d: _rule(d, 1, {"transaction": "nope", "field": "amount", "formula": {"gt": 1}}),
            "variants[1].rules[0].transaction",
            "unknown transaction 'nope'",
        ),
        (
            lambda d: _rule(d, 0, {"transaction": "pos", "field": "amout", "formula": {"gt": 1}}),
            "variants[0].rules[0].field",
            "unknown field 'amout'",
        ),
        (
            lambda d: _rule(d, 2, {"transaction": "pos", "field": "amount", "formula": {"gt": "ten"}}),
            "variants[2].rules[0].formula",
            "'ten' is not a Decimal value",
        ),
        (
            lambda d: _rule(d, 0, {"transaction": "pos", "field": "amount", "formula": {"between": 1}}),
            "variants[0].rules[0].formula",
            "unknown operator 'between'",
        ),
        (
            lambda d: d["experiments"][1]["audience"].append(
                {"transaction": "web_sessions", "field": "page_views", "formula": {"contains": "x"}}
            ),
            "experiments[1].audience[1].formula",
            "String fields only",
        ),
        (
            lambda d: d["experiments"][0]["variants"].append("discount_30"),
            "experiments[0].variants[3]",
            "unknown variant 'discount_30'",
        ),
        (lambda d: d["experiments"][0].update(type="XYZ"), "experiments[0].type", "NBO"),
        (
            lambda d: d["experiments"][0].update(control_share=1.5),
            "experiments[0].control_share",
            "less than 1",
        ),
        (lambda d: d["experiments"][0].update(end="2026-01-01"), "experiments[0].end", "before start"),
        (
            lambda d: d["groups"][0]["experiments"].append("nope"),
            "groups[0].experiments[2]",
            "unknown experiment 'nope'",
        ),
        (
            lambda d: d["groups"].append({"name": "g2", "experiments": ["offer", "channel"]}),
            "groups[1].experiments[0]",
            "already in group 'spring_push'",
        ),
        (
            lambda d: d["variants"].append({"name": "control", "message": "x"}),
            "variants[5].name",
            "reserved name",
        ),
        (
            lambda d: d["variants"].append({"name": "no_treatment", "message": "x"}),
            "variants[5].name",
            "reserved name",
        ),
        (lambda d: d["experiments"][0].update(cadence_days=0), "experiments[0].cadence_days", "1"),
        (
            lambda d: d["experiments"][0].update(policy="greedy"),
            "experiments[0].policy",
            "uniform",
        ),
        (
            lambda d: d["experiments"][0].update(policy="uplift", model=None),
            "experiments[0].model",
            "learns from a model's features",
        ),
        (
            lambda d: d["experiments"][0].update(policy="thompson", type="AB"),
            "experiments[0].policy",
            "splits uniformly",
        ),
        (
            lambda d: d["experiments"][1].update(capacity={"fax": 10}),
            "experiments[1].capacity.fax",
            "not a variant of this experiment",
        ),
        (lambda d: d["experiments"][1].update(slots=["9am"]), "experiments[1].slots[0]", "HH:MM"),
        (
            lambda d: d["experiments"][0].update(policy="thompson"),
            "groups[0].experiments[1]",
            "the same policy",
        ),
        (
            lambda d: d["experiments"][1].update(cadence_days=7),
            "groups[0].experiments[1]",
            "the same cadence_days ('offer' has 5, 'channel' has 7)",
        ),
        (
            lambda d: d["experiments"][1].pop("cadence_days"),
            "groups[0].experiments[1]",
            "'channel' has none",
        ),
        (lambda d: d["experiments"][1].update(type="NBT"), "experiments[1].slots", "give slots"),
        (lambda d: d["variants"][3].update(reach="fax"), "variants[3].reach", "email"),
        (
            lambda d: d["conversions"]["definitions"][0].update(experiment="nope"),
            "conversions.definitions[0].experiment",
            "unknown experiment 'nope'",
        ),
        (
            lambda d: d["conversions"]["definitions"][0].update(value_field="product"),
            "conversions.definitions[0].value_field",
            "not a number field",
        ),
        (
            lambda d: d["conversions"]["definitions"][1]["rules"].append(
                {"transaction": "web_sessions", "field": "revenue", "formula": {"gt": 0}}
            ),
            "conversions.definitions[1].rules[2].transaction",
            "name one transaction",
        ),
        (
            lambda d: d["conversions"].update(window_days=0),
            "conversions.window_days",
            "greater than or equal to 1",
        ),
        (
            lambda d: d["conversions"].update(uploaded="pos"),
            "conversions.uploaded",
            "must have a field 'experiment'",
        ),
        (lambda d: d["experiments"][0].update(colour="red"), "experiments[0].colour", "unknown key"),
        (
            # never a control row, and uplift never sends nothing while it learns: it learned for ever
            lambda d: d["experiments"][2].update(control_share=0),
            "experiments[2].control_share",
            "policy uplift learns what sending nothing does from control",
        ),
        (
            lambda d: d["conversions"]["definitions"][0].update(worse="decrease"),
            "conversions.definitions[0].worse",
            "only a guardrail",
        ),
        (
            lambda d: d["conversions"]["definitions"][0].update(role="guardrail", name="primary"),
            "conversions.definitions[0].name",
            "names the primary metric",
        ),
        (
            lambda d: d["conversions"]["definitions"].extend(
                [dict(d["conversions"]["definitions"][0], name=f"c{i}", role="covariate") for i in range(2)]
            ),
            "conversions.definitions[4].role",
            "one at most",
        ),
        (lambda d: d.update(analysis={"cuped_days": 0}), "analysis.cuped_days", "greater than or equal to 1"),
        (  # a fixed value is read as a DECIMAL(38, 18): under 1e20
            lambda d: d["conversions"]["definitions"][0].update(value_field=None, value=1e21),
            "conversions.definitions[0].value",
            "less than 100000000000000000000",
        ),
    ],
)
def test_wrong_keys_are_named(change, path, message):
    problems = errors(change)
    assert any(p == path and message in m for p, m in problems), problems
