"""Attribution config: the example's models, and every refused model named by its key path."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from pipeline.attribution.config import BUILTIN_NAMES
from pipeline.attribution.models import all_models
from pipeline.config import load_config, parse_config
from pipeline.core.settings import ConfigError
from tests.conftest import EXAMPLE, example_dict


def problems_of(data: dict, tmp_path: Path) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as e:
        parse_config(data, tmp_path / "bad.yaml", tmp_path)
    assert str(tmp_path / "bad.yaml") in str(e.value)
    return e.value.problems


def with_model(**model) -> dict:
    data = example_dict()
    data["attribution"]["models"] = [{"name": "Mine", "modelType": "first", **model}]
    return data


def test_the_built_ins_are_spec_5s_and_come_first():
    models = all_models(load_config(EXAMPLE).attribution)
    assert (
        [m.name for m in models[:10]]
        == list(BUILTIN_NAMES)
        == [
            "Last Click (Infinite)",
            "First Click (Infinite)",
            "First Click",
            "First Click Weighted",
            "Last Click",
            "Last Click Weighted",
            "Equally Weighted",
            "First and Last Click Weighted",
            "Equally Weighted (PPC Only)",
            "First Click Weighted (PPC Only)",
        ]
    )
    by = {m.name: m for m in models}
    assert by["Last Click (Infinite)"].lookback_days is None and by["First Click"].lookback_days == 90
    assert (by["First Click Weighted"].first_weight, by["First Click Weighted"].last_weight) == (3, 1)
    assert (by["Last Click Weighted"].first_weight, by["Last Click Weighted"].last_weight) == (1, 3)
    assert (
        by["First and Last Click Weighted"].first_weight,
        by["First and Last Click Weighted"].last_weight,
    ) == (3, 3)
    ppc = by["Equally Weighted (PPC Only)"]
    assert ppc.lookback_days == 30 and ppc.channels_mode == "include"
    assert ppc.channels == ("Paid Search", "Paid Social", "Display")  # the channels flagged paid
    assert by["First Click Weighted (PPC Only)"].lookback_days == 90
    assert (
        by["Last Non-Direct Click"].channels == ("Direct",)
        and by["Last Non-Direct Click"].channels_mode == "exclude"
    )


@pytest.mark.parametrize(
    ("model", "path", "words"),
    [
        ({"name": "Last Click"}, "attribution.models[0].name", "built-in"),
        ({"name": "equally weighted (ppc only)"}, "attribution.models[0].name", "built-in"),
        ({"lookbackDays": 0}, "attribution.models[0].lookbackDays", "greater than or equal to 1"),
        ({"lookbackDays": 366}, "attribution.models[0].lookbackDays", "less than or equal to 365"),
        ({"firstWeight": 3}, "attribution.models[0].firstWeight", "only for modelType spread"),
        (
            {"modelType": "position", "lastWeight": 2},
            "attribution.models[0].lastWeight",
            "only for modelType spread",
        ),
        ({"halfLifeDays": 2}, "attribution.models[0].halfLifeDays", "time_decay"),
        (
            {"modelType": "position", "firstShare": 0.7, "lastShare": 0.5},
            "attribution.models[0].lastShare",
            "at most 1",
        ),
        (
            {"modelType": "position", "firstShare": 0, "lastShare": 0},
            "attribution.models[0].lastShare",
            "more than 0",
        ),
        ({"modelType": "lastest"}, "attribution.models[0].modelType", "'first'"),
        (
            {"channelsMode": "include", "channels": ["Tv"]},
            "attribution.models[0].channels[0]",
            "unknown channel 'Tv'",
        ),
        (
            {"channelsMode": "exclude", "channels": [3, 99]},
            "attribution.models[0].channels[1]",
            "unknown channel 99",
        ),
        ({"channels": ["Email"]}, "attribution.models[0].channelsMode", "include or exclude"),
        ({"channelsMode": "include"}, "attribution.models[0].channels", "non-empty"),
        (
            {"matchCriteria": [{"field": "campain", "op": "eq", "value": "x"}]},
            "attribution.models[0].matchCriteria[0].field",
            "unknown field 'campain'",
        ),
        (
            {"matchCriteria": [{"field": "campaign", "op": "like", "value": "x"}]},
            "attribution.models[0].matchCriteria[0].op",
            "unknown operator",
        ),
        (
            {"matchCriteria": [{"field": "value", "op": "eqi", "value": "x"}]},
            "attribution.models[0].matchCriteria[0].value",
            "String fields only",
        ),
        (
            {"matchCriteria": [{"field": "value", "op": "gt", "value": "lots"}]},
            "attribution.models[0].matchCriteria[0].value",
            "not a Decimal",
        ),
        ({"modelType": "spread", "firstWeight": 0}, "attribution.models[0].firstWeight", "greater than 0"),
        (
            {"modelType": "spread", "firstWeight": float("inf")},
            "attribution.models[0].firstWeight",
            "finite number",
        ),
        (
            {"modelType": "spread", "lastWeight": 1e308},
            "attribution.models[0].lastWeight",
            "less than or equal to 1000000",
        ),
        (
            {"modelType": "time_decay", "halfLifeDays": float("inf")},
            "attribution.models[0].halfLifeDays",
            "finite number",
        ),
        (
            {"modelType": "time_decay", "halfLifeDays": 10_001},
            "attribution.models[0].halfLifeDays",
            "less than or equal to 10000",
        ),
        ({"colour": "red"}, "attribution.models[0].colour", "unknown key"),
        # NumPy draws from a seed of 0 or more: a negative one would fail the night's run, not the config
        (
            {"modelType": "shapley", "seed": -1},
            "attribution.models[0].seed",
            "greater than or equal to 0",
        ),
    ],
)
def test_a_refused_model_is_named_by_its_key_path(tmp_path, model, path, words):
    problems = problems_of(with_model(**model), tmp_path)
    assert len(problems) == 1, problems
    assert problems[0][0] == path
    assert words in problems[0][1]


def test_channel_table_touchpoints_and_conversions_are_checked(tmp_path):
    data = example_dict()
    att = data["attribution"]
    att["channels"].append({"id": 3, "name": "TV"})
    att["touchpoints"].append({"type": "campaignLinkClicked", "channel": "Mail"})
    att["conversions"].append(copy.deepcopy(att["conversions"][0]))
    att["conversions"][0]["matchCriteria"] = [
        {"field": "paid", "op": "eq", "value": True}
    ]  # paid: touches only
    problems = dict(problems_of(data, tmp_path))
    assert "attribution.conversions[0].matchCriteria[0].field" in problems
    data["attribution"]["conversions"][0]["matchCriteria"] = []
    problems = dict(problems_of(data, tmp_path))
    assert "is used twice" in problems["attribution.channels[8].id"]
    data["attribution"]["channels"][8]["id"] = 9
    problems = dict(problems_of(data, tmp_path))
    assert "unknown channel 'Mail'" in problems["attribution.touchpoints[1].channel"]
    data["attribution"]["touchpoints"][1]["channel"] = "Email"
    problems = dict(problems_of(data, tmp_path))
    assert "is used twice" in problems["attribution.conversions[2].name"]
    data["attribution"]["conversions"][2]["name"] = "other"
    data["attribution"]["conversions"][2]["from"] = "conversions"
    problems = dict(problems_of(data, tmp_path))
    assert "'events'" in problems["attribution.conversions[2].from"]


def test_a_negative_bootstrap_seed_is_refused(tmp_path):
    # NumPy draws from a seed of 0 or more: a negative one would fail the night's run, not the config
    data = example_dict()
    data["attribution"]["bootstrapSeed"] = -1
    problems = dict(problems_of(data, tmp_path))
    assert "greater than or equal to 0" in problems["attribution.bootstrapSeed"]
    data["attribution"]["bootstrapSeed"] = 0
    parse_config(data, tmp_path / "good.yaml", tmp_path)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e20, -1e21])
def test_a_fixed_conversion_value_the_credits_cannot_sum_is_refused(tmp_path, value):
    # a fixed value beyond what DECIMAL(38,18) holds (or not finite) failed every night's attribution
    # ('Could not cast value inf to DECIMAL(38,18)'); the config now names it
    data = example_dict()
    data["attribution"]["conversions"][0]["value"] = value
    problems = dict(problems_of(data, tmp_path))
    assert list(problems) == ["attribution.conversions[0].value"]
    data["attribution"]["conversions"][0]["value"] = 99_999_999_999.5
    parse_config(data, tmp_path / "good.yaml", tmp_path)
